"""In-process state shared by the memory twins: what one database would hold."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import Any

from domain.accounts import User
from domain.api_keys import ApiKey
from domain.audit import AuditEvent
from domain.coupons import Coupon, Redemption
from domain.idempotency import IdempotencyRecord
from domain.ledger import CreditTransaction
from domain.password_resets import ResetToken
from domain.requests import RequestRecord


@dataclass
class MemoryStore:
    users: dict[int, User] = field(default_factory=dict)
    api_keys: dict[int, ApiKey] = field(default_factory=dict)
    ledger: list[CreditTransaction] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)
    coupons: dict[int, Coupon] = field(default_factory=dict)
    redemptions: list[Redemption] = field(default_factory=list)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    requests: dict[str, RequestRecord] = field(default_factory=dict)  # the request log (not transactional)
    password_hashes: dict[int, str] = field(default_factory=dict)
    reset_tokens: dict[str, ResetToken] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def next_id(self, name: str) -> int:
        self.sequences[name] = self.sequences.get(name, 0) + 1
        return self.sequences[name]

    def snapshot(self) -> dict[str, Any]:
        return {k: copy.copy(getattr(self, k))
                for k in ("users", "api_keys", "ledger", "audit", "coupons", "redemptions", "idempotency",
                          "sequences", "password_hashes", "reset_tokens")}

    def restore(self, snap: dict[str, Any]) -> None:
        for k, v in snap.items():
            setattr(self, k, v)
