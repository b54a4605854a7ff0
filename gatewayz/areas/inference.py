"""The data plane: the pipeline and its steps (admit, hold, dispatch, settle)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.http.area import Area
from adapters.http.bundles.inference import InferenceServices
from adapters.http.controllers.ai_sdk import AISDKController
from adapters.http.controllers.chat import ChatController
from adapters.http.controllers.messages import MessagesController
from domain.services.admit_request import AdmitRequest
from domain.services.chat_completion import ChatCompletion
from domain.services.dispatch import Dispatch
from domain.services.hold_credits import HoldCredits
from domain.services.session_history import SessionHistory
from domain.services.settle_request import SettleRequest
from gatewayz import limits as admission_rules


class InferenceArea(containers.DeclarativeContainer):
    settings = providers.Dependency()
    uow = providers.Dependency()
    clock = providers.Dependency()
    ids = providers.Dependency()
    key_secret = providers.Dependency()
    catalog_source = providers.Dependency()
    upstream = providers.Dependency()
    breakers = providers.Dependency()
    policy = providers.Dependency()
    metrics = providers.Dependency()
    settlement_metrics = providers.Dependency()
    provider_timings = providers.Dependency()
    request_log = providers.Dependency()
    settlements = providers.Dependency()
    holds = providers.Dependency()
    rate_limiter = providers.Dependency()
    limit_configs = providers.Dependency()
    admission = providers.Dependency()
    chat_history_store = providers.Dependency()
    assistant_messages = providers.Dependency()
    response_caching = providers.Dependency()  # None: RESPONSE_CACHE_ENABLED is off

    markup = providers.Callable(lambda s: s.pricing_markup, settings)
    admit_request = providers.Singleton(
        AdmitRequest, rate_limiter, limit_configs, clock, defaults=admission.provided.limits,
        anonymous=admission.provided.anonymous_limits,
        ip_salt=providers.Callable(admission_rules.ip_salt, settings, key_secret),
        default_output_tokens=admission.provided.default_output_tokens)
    dispatch = providers.Singleton(Dispatch, upstream, breakers, metrics, clock, policy, provider_timings)
    hold_credits = providers.Singleton(HoldCredits, uow, holds, settlements, clock, markup=markup,
                                       ttl_s=providers.Callable(lambda s: s.hold_ttl_s, settings))
    settle_request = providers.Singleton(SettleRequest, settlements, holds, clock, markup=markup,
                                         metrics=settlement_metrics)
    session_history = providers.Singleton(SessionHistory, chat_history_store, assistant_messages, clock)
    chat_completion = providers.Singleton(
        ChatCompletion, catalog_source, upstream, dispatch, request_log, metrics, clock, ids, hold_credits,
        settle_request, admit_request, providers.Callable(lambda s: frozenset(s.anonymous_allowed_models), settings),
        history=session_history, cache=response_caching)
    bundle = providers.Singleton(InferenceServices, chat_completion)


HTTP = Area("inference", [ChatController, MessagesController, AISDKController])
