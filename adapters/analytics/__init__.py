"""Analytics services as sinks (ports.analytics.AnalyticsSink): one HTTP delivery, each service's
wire format as data (statsig.py, posthog.py)."""
