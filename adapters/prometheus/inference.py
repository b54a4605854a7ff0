"""Inference metrics in Prometheus, with the seed's metric names so existing dashboards keep working.
Label children are cached: `labels()` costs a lock and a dict lookup per call on the hot path."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60)
TTFC_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
COST_BUCKETS = (0.00001, 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5)
BREAKER_STATE_VALUES = {"closed": 0, "open": 1, "half_open": 2}


class _ModelChildren:
    """Every per-(provider, model) child, resolved once."""

    def __init__(self, m: PrometheusInferenceMetrics, provider: str, model: str) -> None:
        self.success = m.requests.labels(provider, model, "success")
        self.error = m.requests.labels(provider, model, "error")
        self.duration = m.duration.labels(provider, model)
        self.prompt = m.tokens.labels(provider, model, "prompt")
        self.completion = m.tokens.labels(provider, model, "completion")
        self.credits = m.credits.labels(provider, model)
        self.cost = m.cost.labels(provider, model)
        self.cost_per_request = m.cost_per_request.labels(provider, model)
        self.ttfc = m.ttfc.labels(provider, model)


class PrometheusInferenceMetrics:
    """Implements ports.telemetry.InferenceMetrics. Credits are USD, so credits_used follows cost."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("model_inference_requests", "Inference requests by outcome",
                                ["provider", "model", "status"], registry=registry)
        self.duration = Histogram("model_inference_duration", "Inference duration in seconds",
                                  ["provider", "model"], buckets=DURATION_BUCKETS, registry=registry)
        self.tokens = Counter("tokens_used", "Tokens used", ["provider", "model", "token_type"], registry=registry)
        self.credits = Counter("credits_used", "Credits charged", ["provider", "model"], registry=registry)
        self.cost = Counter("api_cost_usd_total", "Upstream cost in USD", ["provider", "model"], registry=registry)
        self.cost_per_request = Histogram("api_cost_per_request", "Cost per request in USD", ["provider", "model"],
                                          buckets=COST_BUCKETS, registry=registry)
        self.ttfc = Histogram("time_to_first_chunk_seconds", "Time to the first streamed chunk",
                              ["provider", "model"], buckets=TTFC_BUCKETS, registry=registry)
        self.failovers = Counter("provider_failover_total", "Failovers away from a provider",
                                 ["provider", "reason"], registry=registry)
        self.breaker = Gauge("circuit_breaker_state", "Breaker state: 0 closed, 1 open, 2 half_open",
                             ["provider"], registry=registry)
        self.transitions = Counter("circuit_breaker_transitions", "Breaker transitions seen by this process",
                                   ["provider", "state"], registry=registry)
        self._models: dict[tuple[str, str], _ModelChildren] = {}
        self._last_state: dict[str, str] = {}

    def _children(self, provider: str, model: str) -> _ModelChildren:
        children = self._models.get((provider, model))
        if children is None:
            children = self._models[(provider, model)] = _ModelChildren(self, provider, model)
        return children

    def completed(self, *, provider: str, model: str, success: bool, seconds: float,
                  prompt_tokens: int, completion_tokens: int, cost: Decimal | None) -> None:
        c = self._children(provider, model)
        (c.success if success else c.error).inc()
        c.duration.observe(seconds)
        if prompt_tokens > 0:
            c.prompt.inc(prompt_tokens)
        if completion_tokens > 0:
            c.completion.inc(completion_tokens)
        if cost is not None and cost >= 0:
            usd = float(cost)
            c.cost.inc(usd)
            c.credits.inc(usd)
            c.cost_per_request.observe(usd)

    def first_chunk(self, *, provider: str, model: str, seconds: float) -> None:
        self._children(provider, model).ttfc.observe(seconds)

    def failover(self, *, from_provider: str, reason: str) -> None:
        self.failovers.labels(from_provider, reason).inc()

    def breaker_state(self, *, provider: str, state: str) -> None:
        """Set the gauge; count a transition when the state differs from the last one seen here
        (a breaker never seen is taken as closed)."""
        value = BREAKER_STATE_VALUES.get(state)
        if value is None:
            return
        self.breaker.labels(provider).set(value)
        if self._last_state.get(provider, "closed") != state:
            self.transitions.labels(provider, state).inc()
        self._last_state[provider] = state
