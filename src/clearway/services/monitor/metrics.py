"""Prometheus metrics the monitor exports: the platform's traffic as it ingests it, and itself.

Each monitor instance has its own registry (never the process-global one), so several
platforms in one process (the test suite) do not collide.
"""

from __future__ import annotations

from collections import Counter as CounterOf
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class MonitorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "clearway_http_requests",
            "Requests through the gateway, by route template, method and status class.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "clearway_http_request_duration_seconds",
            "Gateway request latency by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "clearway_monitor_events_ingested",
            "Events the monitor has ingested, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "clearway_monitor_ingest_batch_seconds",
            "Time to write one batch of request records.",
            registry=self.registry,
        )
        self.audit_entries = Counter(
            "clearway_monitor_audit_entries",
            "Entries appended to the audit trail.",
            registry=self.registry,
        )
        self.audit_ok = Gauge(
            "clearway_monitor_audit_chain_ok",
            "1 if the last audit verification found the chain intact, 0 if not.",
            registry=self.registry,
        )
        self.retention_removed = Counter(
            "clearway_monitor_retention_removed_rows",
            "Rows removed by the retention clean-up, by table.",
            ["table"],
            registry=self.registry,
        )

    def observe_requests(self, rows: Iterable[tuple[str, str, int, float]]) -> None:
        """Count a batch of (route, method, status, latency_ms): one increment per series."""
        counts: CounterOf[tuple[str, str, str]] = CounterOf()
        latencies: dict[str, Any] = {}
        for route, method, status, latency_ms in rows:
            counts[(route, method, f"{status // 100}xx")] += 1
            histogram = latencies.get(route)
            if histogram is None:
                histogram = latencies[route] = self.latency.labels(route)
            histogram.observe(latency_ms / 1000)
        for labels, count in counts.items():
            self.requests.labels(*labels).inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
