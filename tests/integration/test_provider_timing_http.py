"""Provider timing (#1735) through the real app: every upstream attempt, failed ones included, shows
in /metrics under the seed's names, and the diagnostics route points at that histogram."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from gatewayz.migrations import migrate
from tests.conftest import in_thread
from tests.fakes.upstream import FakeUpstream, Script
from tests.harness import bearer
from tests.integration.inference_kit import MESSAGES
from tests.integration.test_inference_http import gateway_app

NOTE = "Use Prometheus/Grafana for detailed timing histograms. Query: provider_response_duration_seconds"


def samples(metrics: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called `name`, keyed by its sorted labels."""
    return {tuple(sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(metrics) for s in family.samples if s.name == name}


async def test_every_upstream_attempt_is_a_provider_response_duration_sample(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/gatewayz.db"
    in_thread(migrate, url)
    async with FakeUpstream() as fake, gateway_app(url, fake) as r:
        _, key = await r.user("timing@example.com", credits=100)
        fake.script("chat-a", Script(status=500))  # alpha fails, beta serves: two attempts, one request
        resp = await r.client.post("/v1/chat/completions", headers=bearer(key),
                                   json={"model": "acme/chat", "messages": MESSAGES})
        assert resp.status_code == 200 and resp.headers["x-gatewayz-provider"] == "beta", resp.text

        metrics = (await r.client.get("/metrics")).text
        counts = samples(metrics, "provider_response_duration_seconds_count")
        by_provider = {dict(labels)["provider"]: value for labels, value in counts.items()}
        assert by_provider == {"alpha": 1.0, "beta": 1.0}
        assert {dict(labels)["model"] for labels in counts} == {"acme/chat"}
        assert "# TYPE provider_slow_requests_total counter" in metrics  # registered before any slow call

        timings = await r.service("provider_timings")
        timings.observe("openrouter", 50.0, True, model="gpt-4")
        timings.observe("openrouter", 31.0, True, model="gpt-4")
        metrics = (await r.client.get("/metrics")).text
        slow = samples(metrics, "provider_slow_requests_total")
        assert slow == {(("model", "gpt-4"), ("provider", "openrouter"), ("severity", "slow")): 1.0,
                        (("model", "gpt-4"), ("provider", "openrouter"), ("severity", "very_slow")): 1.0}

        body = (await r.client.get("/api/diagnostics/provider-timing")).json()
        assert body["note"] == NOTE
        assert body["slow_request_counts"] == {"openrouter/gpt-4": {"slow": 1, "very_slow": 1}}
