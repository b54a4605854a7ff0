"""The per-request record: exactly one per inference request, success or failure."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec


class RequestRecord(msgspec.Struct, frozen=True, kw_only=True):
    request_id: str
    created_at: datetime
    model: str
    status: str                       # completed | failed
    user_id: int | None = None
    api_key_id: int | None = None
    provider: str | None = None       # the provider that served (None when none did)
    input_tokens: int = 0
    output_tokens: int = 0
    processing_time_ms: int = 0
    time_to_first_token_ms: int | None = None
    error_message: str | None = None
    cost_usd: Decimal | None = None
    is_anonymous: bool = False
    usage_estimated: bool = False
    operation: str = "chat"
    client_request_id: str | None = None  # the client's own X-Request-Id (not unique; ours is request_id)
    metadata: dict[str, Any] | None = None  # the response cache's seed keys: butter_cache_hit, actual_cost_usd
