"""Prometheus metrics behind the telemetry ports."""
