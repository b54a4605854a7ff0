"""PostHog's batch intake: `POST {host}/batch/`, the project key in the body."""

from __future__ import annotations

from typing import Any

import aiohttp

from adapters.analytics.delivery import HttpSink
from domain.analytics import AnalyticsEvent

DEFAULT_HOST = "https://us.i.posthog.com"


def posthog_event(event: AnalyticsEvent) -> dict[str, Any]:
    return {"event": event.name, "distinct_id": event.distinct_id, "properties": dict(event.properties),
            "timestamp": event.timestamp.isoformat()}


def posthog_sink(session: aiohttp.ClientSession, api_key: str, host: str = DEFAULT_HOST) -> HttpSink:
    return HttpSink("posthog", session, host.rstrip("/") + "/batch/",
                    lambda events: {"api_key": api_key, "batch": [posthog_event(e) for e in events]})
