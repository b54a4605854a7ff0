"""Wire shapes of the admin read surface (issue 14): money as exact JSON numbers, keys in display form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.http.schemas.money import money
from domain.admin import key_display
from domain.api_keys import ApiKey


def moneyish(value: Any) -> Any:
    """Every Decimal of a row as an exact JSON number; nested mappings and lists walked."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, dict):
        return {k: moneyish(v) for k, v in value.items()}
    if isinstance(value, list):
        return [moneyish(v) for v in value]
    return value


def api_key_out(row: dict[str, Any]) -> dict[str, Any]:
    """#1614's `api_key` object: our columns under the seed's names, never the secret or its HMAC."""
    return {
        "id": row["id"], "user_id": row["user_id"], "api_key": key_display(row["prefix"], row["last4"]),
        "key_name": row["name"], "environment_tag": row["environment"], "is_active": bool(row["is_active"]),
        "is_primary": bool(row["is_primary"]), "kind": row["kind"],
        "scope_permissions": {scope: ["*"] for scope in row["scopes"] or []}, "max_requests": None,
        "requests_used": row["requests_used"], "ip_allowlist": list(row["ip_allowlist"] or []),
        "domain_referrers": list(row["domain_referrers"] or []), "created_at": row["created_at"],
        "updated_at": row["rotated_at"] or row["created_at"], "last_used_at": row["last_used_at"],
        "expiration_date": row["expires_at"],
        "user": {"id": row["user_id"], "username": row["u_username"], "email": row["u_email"],
                 "credits": money(Decimal(str(row["u_credits"] or 0))), "is_active": bool(row["u_active"]),
                 "role": row["u_role"], "subscription_status": row["u_status"], "created_at": row["u_created"]},
    }


def key_details(k: ApiKey) -> dict[str, Any]:
    """A key in #1612's list: display form and settings, never the secret or its HMAC."""
    return {"id": k.id, "api_key": key_display(k.prefix, k.last4), "key_name": k.name, "prefix": k.prefix,
            "last4": k.last4, "environment": k.environment, "environment_tag": k.environment, "kind": k.kind,
            "is_active": k.is_active, "is_primary": k.is_primary, "scopes": list(k.scopes),
            "ip_allowlist": list(k.ip_allowlist), "domain_referrers": list(k.domain_referrers),
            "expires_at": k.expires_at, "last_used_at": k.last_used_at, "created_at": k.created_at,
            "revoked_at": k.revoked_at}
