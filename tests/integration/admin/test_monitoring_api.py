"""Request monitoring over HTTP on SQLite and PostgreSQL + Redis (issue 14: #1602, #1616-#1622, #1634,
#1635): exact figures on small fixtures, the nested catalog object, filters in SQL, the summary cache
and its key, bucketed plot arrays, the operator-key guard."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from adapters.catalog_file.loader import load_catalog_file
from adapters.postgres.tables import api_keys, chat_completion_requests, model_numbers
from tests.harness import Running, bearer
from tests.integration.admin.conftest import ADMIN_API_KEY
from tests.integration.admin.kit import insert_rows
from tests.integration.inference_kit import CATALOG

OPERATOR = bearer(ADMIN_API_KEY)


async def setup(r: Running) -> tuple[dict[str, str], dict[str, int]]:
    await (await r.service("load_catalog"))(*load_catalog_file(CATALOG))
    _, key = await r.user("root@admin.test", admin=True)
    engine = await r.service("engine")
    async with engine.begin() as conn:
        have = {m for (m,) in (await conn.execute(select(model_numbers.c.model_id))).all()}
        missing = [{"model_id": m} for m in ("acme/chat", "acme/duo") if m not in have]
        if missing:
            await conn.execute(insert(model_numbers), missing)
        numbers = dict((await conn.execute(select(model_numbers.c.model_id, model_numbers.c.id))).all())
    return bearer(key), numbers


def request(i: int, model_id: int | None, provider: str | None, *, at: datetime, status: str = "completed",
            tokens: tuple[int, int] = (10, 20), ms: int = 100, cost: str = "0.5", user_id: int | None = None,
            api_key_id: int | None = None) -> dict[str, Any]:
    return dict(request_id=f"r{i}-{at.timestamp()}", model_id=model_id, model="m", provider=provider, status=status,
                input_tokens=tokens[0], output_tokens=tokens[1], processing_time_ms=ms, cost_usd=Decimal(cost),
                user_id=user_id, api_key_id=api_key_id, created_at=at)


async def test_list_nests_the_catalog_model_and_filters_in_sql(app: Running) -> None:
    h, n = await setup(app)
    now = datetime.now(UTC)
    await insert_rows(app, chat_completion_requests, [
        request(1, n["acme/chat"], "alpha", at=now - timedelta(minutes=3)),
        request(2, n["acme/chat"], None, at=now - timedelta(minutes=2), status="failed"),
        request(3, n["acme/duo"], "beta", at=now - timedelta(minutes=1)),
        request(4, None, "alpha", at=now),  # never resolved to a catalog model: excluded
    ])
    body = (await app.client.get("/admin/monitoring/chat-requests", headers=h)).json()
    assert body["metadata"]["total_count"] == 3 and body["metadata"]["returned_count"] == 3
    first, failed = body["data"][0], body["data"][1]
    assert first["models"] == {"id": n["acme/duo"], "model_id": "acme/duo", "model_name": first["models"]["model_name"],
                               "provider_model_id": "duo-b", "provider_id": "beta",
                               "providers": {"id": "beta", "name": first["models"]["providers"]["name"],
                                             "slug": "beta"}}
    assert failed["models"]["providers"] is None and failed["status"] == "failed"
    only = (await app.client.get("/admin/monitoring/chat-requests", params={"provider_id": "alpha"}, headers=h)).json()
    assert [r["models"]["provider_model_id"] for r in only["data"]] == ["chat-a"]
    assert (await app.client.get("/admin/monitoring/chat-requests", params={"model_name": "%"},
                                 headers=h)).json()["metadata"]["total_count"] == 0
    today = now.date().isoformat()
    assert (await app.client.get("/admin/monitoring/chat-requests", params={"end_date": today},
                                 headers=h)).json()["metadata"]["total_count"] == 3  # the whole day
    page = (await app.client.get("/admin/monitoring/chat-requests", params={"limit": 1, "offset": 1},
                                 headers=h)).json()
    assert page["metadata"]["total_count"] == 3 and len(page["data"]) == 1
    assert (await app.client.get("/admin/monitoring/chat-requests", params={"limit": 100001},
                                 headers=h)).status_code == 422
    assert (await app.client.get("/admin/monitoring/chat-requests", params={"start_date": "yesterday"},
                                 headers=h)).status_code == 422


async def test_summary_figures_and_cache(app: Running) -> None:
    h, n = await setup(app)
    now = datetime.now(UTC)
    rows = [request(i, n["acme/chat"], "alpha", at=now - timedelta(minutes=i), cost="0.25") for i in range(3)]
    rows.append(request(9, n["acme/chat"], "alpha", at=now, status="failed", cost="0"))
    await insert_rows(app, chat_completion_requests, rows)
    params = {"provider_id": "alpha"}
    first = (await app.client.get("/admin/monitoring/chat-requests/summary", params=params, headers=h)).json()
    s = first["summary"]
    assert first["cached"] is False
    assert (s["total_requests"], s["completed_requests"], s["failed_requests"]) == (4, 3, 1)
    assert s["success_rate"] == 75.0 and s["total_cost_usd"] == 0.75 and s["total_tokens"] == 120
    await insert_rows(app, chat_completion_requests, [request(20, n["acme/chat"], "alpha", at=now)])
    second = (await app.client.get("/admin/monitoring/chat-requests/summary", params=params, headers=h)).json()
    assert second["cached"] is True and second["summary"]["total_requests"] == 4
    assert second["timestamp"] == first["timestamp"]
    key = "chat_summary:filters:" + hashlib.md5(b"None:alpha:None:None:None").hexdigest()
    cache = await app.service("result_cache")
    assert await cache.get(key) is not None
    other = (await app.client.get("/admin/monitoring/chat-requests/summary", headers=h)).json()
    assert other["cached"] is False and other["summary"]["total_requests"] == 5


async def test_plot_data_filters_before_the_limit_and_buckets(app: Running) -> None:
    h, n = await setup(app)
    now = datetime.now(UTC)
    rows = [request(i, n["acme/chat"], "alpha", at=now - timedelta(seconds=i), tokens=(i, 0), ms=i)
            for i in range(1500)]
    rows += [request(5000 + i, n["acme/chat"], "beta", at=now + timedelta(seconds=i)) for i in range(12)]
    await insert_rows(app, chat_completion_requests, rows)
    body = (await app.client.get("/admin/monitoring/chat-requests/plot-data", params={"provider_id": "alpha"},
                                 headers=h)).json()
    assert len(body["recent_requests"]) == 10
    assert {r["provider"] for r in body["recent_requests"]} == {"alpha"}
    assert body["metadata"]["total_count"] == 1500
    assert 1 < len(body["plot_data"]["tokens"]) <= 1000
    assert len(body["plot_data"]["timestamps"]) == len(body["plot_data"]["latency"]) == len(body["plot_data"]["tokens"])
    assert body["plot_data"]["timestamps"] == sorted(body["plot_data"]["timestamps"])
    beta = (await app.client.get("/admin/monitoring/chat-requests/plot-data", params={"provider_id": "beta"},
                                 headers=h)).json()
    assert len(beta["plot_data"]["tokens"]) == 12 and beta["plot_data"]["tokens"] == [30.0] * 12


async def test_by_api_key_pages_and_404(app: Running) -> None:
    h, n = await setup(app)
    uid, key = await app.user("caller@x.org")
    engine = await app.service("engine")
    async with engine.connect() as conn:
        key_id = (await conn.execute(select(api_keys.c.id).where(api_keys.c.user_id == uid))).scalar_one()
    now = datetime.now(UTC)
    await insert_rows(app, chat_completion_requests, [
        request(i, n["acme/chat"], "alpha", at=now - timedelta(seconds=i), user_id=uid, api_key_id=key_id)
        for i in range(5)])
    body = (await app.client.get("/admin/monitoring/chat-requests/by-api-key",
                                 params={"api_key": key, "limit": 2, "offset": 2}, headers=h)).json()
    assert body["api_key_info"]["id"] == key_id and len(body["data"]) == 2
    p = body["pagination"]
    assert (p["total_pages"], p["current_page"], p["next_offset"], p["prev_offset"], p["has_more"]) == (3, 2, 4, 0,
                                                                                                        True)
    assert key not in str(body)
    missing = await app.client.get("/admin/monitoring/chat-requests/by-api-key", params={"api_key": key + "x"},
                                   headers=h)
    assert missing.status_code == 404


async def test_groupings(app: Running) -> None:
    h, n = await setup(app)
    now = datetime.now(UTC)
    await insert_rows(app, chat_completion_requests, [
        *(request(i, n["acme/chat"], "alpha", at=now, tokens=(1, 2), ms=10) for i in range(3)),
        request(10, n["acme/chat"], "beta", at=now, tokens=(5, 5), ms=30),
        request(11, n["acme/duo"], "beta", at=now),
    ])
    providers = (await app.client.get("/admin/monitoring/chat-requests/providers", headers=h)).json()
    assert [(p["provider_id"], p["total_requests"], p["models_with_requests"]) for p in providers["data"]] == [
        ("alpha", 3, 1), ("beta", 2, 2)]
    counts = (await app.client.get("/admin/monitoring/chat-requests/counts", headers=h)).json()
    assert [(c["model_identifier"], c["provider_slug"], c["request_count"]) for c in counts["data"]] == [
        ("acme/chat", "alpha", 3), ("acme/chat", "beta", 1), ("acme/duo", "beta", 1)] \
        or counts["data"][0]["request_count"] == 3
    assert counts["metadata"] == {**counts["metadata"], "total_models": 2, "total_requests": 5}
    models = (await app.client.get("/admin/monitoring/chat-requests/models", params={"provider_id": "alpha"},
                                   headers=h)).json()
    assert len(models["data"]) == 1
    stats = models["data"][0]["stats"]
    assert stats == {"total_requests": 3, "total_input_tokens": 3, "total_output_tokens": 6, "total_tokens": 9,
                     "avg_processing_time_ms": 10.0}
    assert models["data"][0]["provider_model_id"] == "chat-a" and models["metadata"]["method"] == "sql"


async def test_monitor_overview(app: Running) -> None:
    h, n = await setup(app)
    uid, key = await app.user("spender@x.org", credits=3)
    now = datetime.now(UTC)
    await insert_rows(app, chat_completion_requests, [
        request(1, n["acme/chat"], "alpha", at=now - timedelta(hours=1), cost="1.5", user_id=uid),
        request(2, n["acme/chat"], "alpha", at=now - timedelta(days=3), cost="2", user_id=uid),
        request(3, n["acme/chat"], "alpha", at=now - timedelta(days=40), cost="9", user_id=uid),
    ])
    response = await app.client.get("/admin/monitor", headers=h)
    d = response.json()["data"]
    assert (d["api_calls_today"], d["api_calls_month"], d["tokens_today"], d["tokens_month"]) == (1, 2, 30, 60)
    assert (d["revenue_today"], d["revenue_month"], d["total_users"], d["users_today"]) == (1.5, 3.5, 2, 2)
    assert d["total_credits"] == 3 and len(d["recent_usage"]) == 3
    m = d["user_metrics"][str(uid)]
    assert (m["requests_30d"], m["cost_30d"], m["credits"]) == (2, 3.5, 3)
    assert m["api_key"] == f"{key[:12]}…{key[-4:]}" and key not in response.text


async def test_tracking_quality_and_trend(app: Running) -> None:
    h, n = await setup(app)
    uid, _ = await app.user("tracked@x.org")
    now = datetime.now(UTC)
    rows = [request(i, n["acme/chat"], "alpha", at=now - timedelta(hours=1), user_id=uid, api_key_id=1)
            for i in range(8)]
    rows += [request(8, n["acme/chat"], "alpha", at=now - timedelta(hours=1), user_id=uid),
             request(9, n["acme/chat"], "alpha", at=now - timedelta(hours=1))]
    rows += [request(20 + i, n["acme/chat"], "alpha", at=now - timedelta(days=2, hours=1), api_key_id=1)
             for i in range(4)]
    await insert_rows(app, chat_completion_requests, rows)
    q = (await app.client.get("/admin/monitoring/api-key-tracking-quality", headers=OPERATOR)).json()
    assert q["total_requests"] == 10 and q["tracking_rate_percent"] == 80.0 and q["alert_status"] == "warning"
    assert q["recommendations"] == [
        "Some requests have a user but no API key: check API key lookup in the request path.",
        "API key tracking is below 90%."]
    assert q["breakdown"]["anonymous_percent"] == 10.0
    t = (await app.client.get("/admin/monitoring/api-key-tracking-trend", params={"days": 3},
                              headers=OPERATOR)).json()
    assert [d["total_requests"] for d in t["trend"]] == [4, 0, 10]  # 2 d 1 h ago: the first 24 h window
    assert t["summary"]["total_requests"] == sum(d["total_requests"] for d in t["trend"]) == 14
    assert t["summary"]["average_tracking_rate_percent"] == 85.71
    for path in ("/admin/monitoring/api-key-tracking-quality", "/admin/monitoring/api-key-tracking-trend"):
        assert (await app.client.get(path, headers=h)).status_code == 401  # an admin *user* key is not the operator's
    assert (await app.client.get("/admin/monitoring/api-key-tracking-quality", params={"hours": 169},
                                 headers=OPERATOR)).status_code == 422
    empty = (await app.client.get("/admin/monitoring/api-key-tracking-quality", params={"hours": 1},
                                  headers=OPERATOR)).json()
    assert empty["total_requests"] == 0 or empty["alert_status"] in ("ok", "warning", "critical")


async def test_model_usage_analytics(app: Running) -> None:
    h, n = await setup(app)
    now = datetime.now(UTC)
    await insert_rows(app, chat_completion_requests, [
        request(1, n["acme/chat"], "alpha", at=now - timedelta(minutes=2), cost="1", ms=100),
        request(2, n["acme/chat"], "alpha", at=now - timedelta(minutes=1), cost="2", ms=300),
        request(3, n["acme/chat"], "alpha", at=now, status="failed", cost="7"),
        request(4, n["acme/duo"], "beta", at=now, cost="0.5"),
    ])
    body = (await app.client.get("/admin/model-usage-analytics", headers=h)).json()
    top = body["data"][0]
    assert (top["model_identifier"], top["provider_slug"], top["successful_requests"]) == ("acme/chat", "alpha", 2)
    assert (top["total_cost_usd"], top["avg_cost_per_request_usd"], top["avg_processing_time_ms"]) == (3, 1.5, 200.0)
    assert top["input_price_per_mtok"] == 1 and top["context_length"] > 0
    assert body["pagination"] == {"page": 1, "limit": 50, "total_items": 2, "total_pages": 1, "has_next": False,
                                  "has_prev": False, "offset": 0}
    fallback = (await app.client.get("/admin/model-usage-analytics", params={"sort_by": "password", "sort_order": "up",
                                                                             "limit": 1, "page": 2}, headers=h)).json()
    assert fallback["filters"] == {"model_name": None, "sort_by": "total_cost_usd", "sort_order": "desc"}
    assert [d["model_identifier"] for d in fallback["data"]] == ["acme/duo"] and fallback["pagination"]["has_prev"]
    asc = (await app.client.get("/admin/model-usage-analytics", params={"sort_by": "total_cost_usd",
                                                                        "sort_order": "asc"}, headers=h)).json()
    assert [d["model_identifier"] for d in asc["data"]] == ["acme/duo", "acme/chat"]
    assert (await app.client.get("/admin/model-usage-analytics", params={"limit": 501}, headers=h)).status_code == 422
    assert (await app.client.get("/admin/model-usage-analytics", params={"page": 0}, headers=h)).status_code == 422
