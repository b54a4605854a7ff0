"""POST /admin/add_credits (#1600): credit the user behind an API key, under the grant cap and the
rolling 24-hour per-admin limit."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import JSONBody

from adapters.http.bundles.credits import CreditsBundle
from adapters.http.controllers.credits import IdempotencyKey, replayable
from adapters.http.schemas.credits import AdminAddCreditsIn, AdminAddCreditsOut


class AdminCreditsController(Controller):
    path = "/admin"
    tags = ["admin"]
    opt = {"auth": "admin"}

    @post("/add_credits", operation_id="admin_add_credits", status_code=200)
    async def add_credits(self, request: Request[Any, Any, Any], credits_services: CreditsBundle,
                          data: JSONBody[AdminAddCreditsIn],
                          idempotency_key: IdempotencyKey = None) -> Response[AdminAddCreditsOut]:
        done = await credits_services.grant_credits(
            request.state.principal.user, api_key=data.api_key, credits=data.credits, reason=data.reason,
            idempotency_key=idempotency_key)
        return replayable(AdminAddCreditsOut.of(done.value), done.replayed)
