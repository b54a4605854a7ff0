"""A charge decided at settlement and not yet in the ledger (written behind, in batches)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec


class PendingCharge(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    request_id: str
    amount: Decimal          # positive: what the request cost
    created_at: datetime
    description: str = ""
    created_by: str | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
