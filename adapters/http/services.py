"""What the HTTP side needs from the core: resolved once by the lifespan into `app.state.services`."""

from __future__ import annotations

from dataclasses import dataclass

from domain.services.adjust_credits import AdjustCredits
from domain.services.authenticate import Authenticate
from domain.services.authorize_admin import AuthorizeAdmin
from domain.services.breaker_queries import ListBreakers, ShowBreaker
from domain.services.bulk_add_credits import BulkAddCredits
from domain.services.chat_completion import ChatCompletion
from domain.services.check_readiness import CheckReadiness
from domain.services.coupon_queries import (
    GetCoupon,
    GetCouponAnalytics,
    GetCouponStats,
    GetRedemptionHistory,
    ListAvailableCoupons,
    ListCoupons,
)
from domain.services.create_coupon import CreateCoupon
from domain.services.credit_queries import GetBalance, ListOwnTransactions, SearchTransactions, SummarizeCredits
from domain.services.deactivate_coupon import DeactivateCoupon
from domain.services.grant_credits import AddCredits, GrantCredits
from domain.services.key_limits import ClearRateLimitCache, SetKeyLimits
from domain.services.model_queries import GetModel, ListModels
from domain.services.provider_timing import SummarizeProviderTimings
from domain.services.redeem_coupon import RedeemCoupon
from domain.services.refund_credits import RefundCredits
from domain.services.reset_breakers import ResetAllBreakers, ResetBreaker
from domain.services.update_coupon import UpdateCoupon
from domain.services.user_queries import CountUsers, ListUsers, ShowUser


@dataclass(frozen=True, slots=True)
class HttpServices:
    authenticate: Authenticate
    authorize_admin: AuthorizeAdmin
    check_readiness: CheckReadiness
    count_users: CountUsers
    list_users: ListUsers
    show_user: ShowUser
    list_models: ListModels
    get_model: GetModel
    list_breakers: ListBreakers
    show_breaker: ShowBreaker
    reset_breaker: ResetBreaker
    reset_all_breakers: ResetAllBreakers
    chat_completion: ChatCompletion
    set_key_limits: SetKeyLimits
    clear_rate_limit_cache: ClearRateLimitCache
    summarize_provider_timings: SummarizeProviderTimings
    redeem_coupon: RedeemCoupon
    list_available_coupons: ListAvailableCoupons
    get_redemption_history: GetRedemptionHistory
    create_coupon: CreateCoupon
    list_coupons: ListCoupons
    get_coupon: GetCoupon
    get_coupon_stats: GetCouponStats
    get_coupon_analytics: GetCouponAnalytics
    update_coupon: UpdateCoupon
    deactivate_coupon: DeactivateCoupon
    grant_credits: GrantCredits
    add_credits: AddCredits
    adjust_credits: AdjustCredits
    bulk_add_credits: BulkAddCredits
    refund_credits: RefundCredits
    search_transactions: SearchTransactions
    summarize_credits: SummarizeCredits
    get_balance: GetBalance
    list_own_transactions: ListOwnTransactions
    admin_api_key: str | None = None
