"""Login, registration and password reset (#1645-#1648, POST /auth/login): the public routes through
which people get in. Each is limited per client IP in the shared attempt limiter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from litestar import Controller, Request, Response, post
from litestar.params import FromQuery, JSONBody

from adapters.http.bundles.accounts import AccountsBundle
from adapters.http.guards import client_ip
from adapters.http.schemas.auth import (
    LoginRequest,
    LoginResponse,
    MessageOut,
    NewPassword,
    PasswordResetRequest,
    PrivyAuthRequest,
    PrivyAuthResponse,
    UserRegistrationRequest,
    UserRegistrationResponse,
)
from adapters.http.schemas.money import money
from domain.errors import GatewayError, InvalidInput, ServiceUnavailable
from domain.password_resets import RESET_REQUESTED_MESSAGE
from domain.services.auth_attempts import LOGIN, PASSWORD_RESET, REGISTER

log = structlog.get_logger("gatewayz.auth")
SCOPE_PERMISSIONS = {"inference": ["*"], "account": ["*"]}
PRIVY_TOKEN_HEADER = "privy-id-token"


def _identity_token(request: Request[Any, Any, Any], body: PrivyAuthRequest) -> str | None:
    """The body's identity_token, else the header, else the cookie Privy's SDK sets."""
    return (body.identity_token or request.headers.get(PRIVY_TOKEN_HEADER)
            or request.cookies.get(PRIVY_TOKEN_HEADER) or None)


class AuthController(Controller):
    path = "/auth"
    tags = ["authentication"]
    opt = {"auth": "public"}

    @post("/", operation_id="auth_privy", status_code=200)
    async def privy(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                    data: JSONBody[PrivyAuthRequest]) -> Response[PrivyAuthResponse]:
        await accounts_services.check_attempts(LOGIN, client_ip(request))
        try:
            done = await accounts_services.privy_login(
                token=_identity_token(request, data), privy_user_id=data.user.id,
                environment=data.environment_tag, auto_create_api_key=data.auto_create_api_key,
                referral_code=data.referral_code)
        except GatewayError:
            raise
        except Exception as exc:  # never the exception's text: it may hold identity or SQL
            request_id = request.scope.get("state", {}).get("request_id")
            log.error("privy_login_failed", request_id=request_id, exc_info=exc)
            return Response({"detail": "Authentication failed", "request_id": request_id},  # type: ignore[arg-type]
                            status_code=500)
        return Response(PrivyAuthResponse.of(done.user, api_key=done.issued.plaintext if done.issued else None,
                                              is_new=done.is_new_user, now=datetime.now(UTC)), status_code=200)

    @post("/register", operation_id="auth_register", status_code=200)
    async def register(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                       data: JSONBody[UserRegistrationRequest]) -> UserRegistrationResponse:
        await accounts_services.check_attempts(REGISTER, client_ip(request))
        try:
            done = await accounts_services.register_user(
                username=data.username, email=data.email, password=data.password, auth_method=data.auth_method,
                environment=data.environment_tag, key_name=data.key_name, referral_code=data.referral_code)
        except ServiceUnavailable as exc:
            raise ServiceUnavailable("Service temporarily unavailable", reason=exc.reason) from exc
        user = done.user
        return UserRegistrationResponse(
            user_id=user.id, username=user.username, email=user.email, api_key=done.api_key,
            credits=money(user.subscription_allowance), environment_tag=data.environment_tag,
            scope_permissions=SCOPE_PERMISSIONS, auth_method=user.auth_method,
            subscription_status=user.subscription_status, message="Account created successfully",
            timestamp=datetime.now(UTC))

    @post("/login", operation_id="auth_login", status_code=200)
    async def login(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                    data: JSONBody[LoginRequest]) -> LoginResponse:
        await accounts_services.check_attempts(LOGIN, client_ip(request))
        done = await accounts_services.password_login(email=data.email, password=data.password)
        user = done.user
        return LoginResponse(
            success=True, message="Login successful", user_id=user.id, username=user.username, email=user.email,
            api_key=done.issued.plaintext if done.issued else None, subscription_status=user.subscription_status,
            credits=money(user.balance), timestamp=datetime.now(UTC))

    @post("/password-reset", operation_id="auth_password_reset", status_code=200)
    async def password_reset(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                             email: FromQuery[str | None] = None,
                             data: JSONBody[PasswordResetRequest | None] = None) -> MessageOut:
        """The seed's `?email=`, or a JSON body `{email}`."""
        await accounts_services.check_attempts(PASSWORD_RESET, client_ip(request))
        address = email or (data.email if data is not None else None)
        if not address:
            raise InvalidInput("email is required (query parameter or JSON body)", field="email",
                               loc=["query", "email"])
        await accounts_services.request_password_reset(address, requester_ip=client_ip(request))
        return MessageOut(message=RESET_REQUESTED_MESSAGE)

    @post("/reset-password", operation_id="auth_reset_password", status_code=200)
    async def reset_password(self, request: Request[Any, Any, Any], accounts_services: AccountsBundle,
                             token: FromQuery[str], data: JSONBody[NewPassword]) -> MessageOut:
        await accounts_services.check_attempts(PASSWORD_RESET, client_ip(request))
        await accounts_services.reset_password(token, data.new_password)
        return MessageOut(message="Password reset successfully")

