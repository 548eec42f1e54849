"""What monitor offers the others: it publishes no events; the runtime reads its metrics."""

from __future__ import annotations

METRICS_ROUTE = "/internal/monitor/metrics"
"""Prometheus text of what the monitor counted (the runtime adds it to `/metrics`)."""
