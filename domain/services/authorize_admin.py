"""AuthorizeAdmin: the admin role check, with every refusal written to the audit log."""

from __future__ import annotations

from domain.api_keys import Principal
from domain.audit import UNAUTHORIZED_ADMIN_ACCESS, AuditEvent
from domain.errors import Forbidden
from ports.clock import Clock
from ports.uow import UnitOfWorkFactory


class AuthorizeAdmin:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, *, method: str, path: str, client_ip: str | None) -> None:
        if principal.user.is_admin:
            return
        async with self._uow() as uow:
            await uow.audit.record(AuditEvent(
                event_type=UNAUTHORIZED_ADMIN_ACCESS,
                created_at=self._clock.now(),
                user_id=principal.user.id,
                api_key_id=principal.key.id,
                details={"method": method, "path": path, "client_ip": client_ip},
            ))
            await uow.commit()
        raise Forbidden("Admin access required")
