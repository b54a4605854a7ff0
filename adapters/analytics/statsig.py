"""Statsig's event intake: `POST {url}/v1/log_event`, the server secret in `statsig-api-key`."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from adapters.analytics.delivery import HttpSink
from domain.analytics import AnalyticsEvent

DEFAULT_URL = "https://events.statsigapi.net"


def statsig_event(event: AnalyticsEvent) -> dict[str, Any]:
    """Statsig metadata is a string map: other values travel as their JSON text."""
    body: dict[str, Any] = {
        "eventName": event.name,
        "user": {"userID": event.distinct_id},
        "metadata": {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
                     for k, v in event.properties.items()},
        "time": int(event.timestamp.timestamp() * 1000),
    }
    if event.value is not None:
        body["value"] = event.value
    return body


def statsig_sink(session: aiohttp.ClientSession, secret_key: str, base_url: str = DEFAULT_URL) -> HttpSink:
    return HttpSink("statsig", session, base_url.rstrip("/") + "/v1/log_event",
                    lambda events: {"events": [statsig_event(e) for e in events]},
                    headers={"statsig-api-key": secret_key})
