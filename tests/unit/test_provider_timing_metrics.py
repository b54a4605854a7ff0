"""Provider timings in Prometheus keep the seed's names (#1735) and feed the rolling statistics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from adapters.memory.timing import MemoryProviderTimings
from adapters.prometheus.timing import OTHER_MODEL, PrometheusProviderTimings


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_each_attempt_is_one_histogram_sample_and_slow_ones_count_by_severity() -> None:
    r = CollectorRegistry()
    timings = PrometheusProviderTimings(r, MemoryProviderTimings())
    for seconds in (0.3, 29.9, 30.0, 45.0, 45.5, 90.0):
        timings.observe("openrouter", seconds, True, model="gpt-4")
    timings.observe("openrouter", 1.0, False, model="gpt-4")
    pm = {"provider": "openrouter", "model": "gpt-4"}
    assert value(r, "provider_response_duration_seconds_count", **pm) == 7
    assert value(r, "provider_response_duration_seconds_bucket", le="30.0", **pm) == 4
    assert value(r, "provider_response_duration_seconds_bucket", le="45.0", **pm) == 5
    assert value(r, "provider_slow_requests_total", severity="slow", **pm) == 2  # 30.0 and 45.0
    assert value(r, "provider_slow_requests_total", severity="very_slow", **pm) == 2
    [stats] = timings.snapshot()
    assert (stats.key, stats.count, stats.errors, stats.slow, stats.very_slow) == ("openrouter/gpt-4", 7, 1, 2, 2)


def test_models_past_the_series_bound_share_one_label() -> None:
    r = CollectorRegistry()
    timings = PrometheusProviderTimings(r, MemoryProviderTimings(), max_series=2)
    for model in ("a", "b", "c", "d"):
        timings.observe("p", 50.0, True, model=model)
    assert value(r, "provider_response_duration_seconds_count", provider="p", model="b") == 1
    assert value(r, "provider_response_duration_seconds_count", provider="p", model="c") is None
    assert value(r, "provider_response_duration_seconds_count", provider="p", model=OTHER_MODEL) == 2
    assert value(r, "provider_slow_requests_total", provider="p", model=OTHER_MODEL, severity="very_slow") == 2
