"""The Prometheus inference metrics keep the seed's names and the breaker gauge's encoding."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry

from adapters.prometheus.inference import PrometheusInferenceMetrics


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_a_completion_counts_request_duration_tokens_and_cost() -> None:
    r = CollectorRegistry()
    m = PrometheusInferenceMetrics(r)
    for _ in range(2):
        m.completed(provider="p", model="m", success=True, seconds=0.3, prompt_tokens=10, completion_tokens=5,
                    cost=Decimal("0.002"))
    m.completed(provider="p", model="m", success=False, seconds=1.0, prompt_tokens=0, completion_tokens=0,
                cost=None)
    pm = {"provider": "p", "model": "m"}
    assert value(r, "model_inference_requests_total", status="success", **pm) == 2
    assert value(r, "model_inference_requests_total", status="error", **pm) == 1
    assert value(r, "model_inference_duration_count", **pm) == 3
    assert value(r, "model_inference_duration_bucket", le="0.5", **pm) == 2
    assert value(r, "tokens_used_total", token_type="prompt", **pm) == 20
    assert value(r, "tokens_used_total", token_type="completion", **pm) == 10
    assert value(r, "api_cost_usd_total", **pm) == 0.004
    assert value(r, "credits_used_total", **pm) == 0.004
    assert value(r, "api_cost_per_request_count", **pm) == 2


def test_first_chunk_and_failover() -> None:
    r = CollectorRegistry()
    m = PrometheusInferenceMetrics(r)
    m.first_chunk(provider="p", model="m", seconds=0.2)
    m.failover(from_provider="p", reason="503")
    assert value(r, "time_to_first_chunk_seconds_count", provider="p", model="m") == 1
    assert value(r, "provider_failover_total", provider="p", reason="503") == 1


def test_the_breaker_gauge_and_transitions() -> None:
    r = CollectorRegistry()
    m = PrometheusInferenceMetrics(r)
    for state in ["closed", "closed", "open", "open", "half_open", "closed"]:
        m.breaker_state(provider="p", state=state)
    assert value(r, "circuit_breaker_state", provider="p") == 0
    m.breaker_state(provider="p", state="open")
    assert value(r, "circuit_breaker_state", provider="p") == 1
    assert value(r, "circuit_breaker_transitions_total", provider="p", state="open") == 2
    assert value(r, "circuit_breaker_transitions_total", provider="p", state="half_open") == 1
    assert value(r, "circuit_breaker_transitions_total", provider="p", state="closed") == 1
