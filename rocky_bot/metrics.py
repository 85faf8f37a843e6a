"""Prometheus metrics (`rocky_` prefix), one registry per fleet so tests can run several fleets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        labels = ["account", "role"]
        self.orders_placed = Counter("rocky_orders_placed", "Orders accepted", labels, registry=r)
        self.orders_cancelled = Counter(
            "rocky_orders_cancelled", "Orders cancelled", [*labels, "reason"], registry=r
        )
        self.orders_modified = Counter(
            "rocky_orders_modified", "Orders modified", labels, registry=r
        )
        self.orders_rejected = Counter(
            "rocky_orders_rejected", "Orders rejected", [*labels, "reason"], registry=r
        )
        self.fills = Counter("rocky_fills", "Fills seen", labels, registry=r)
        self.api_requests = Counter(
            "rocky_api_requests", "REST requests", ["endpoint", "method"], registry=r
        )
        self.api_errors = Counter(
            "rocky_api_errors", "REST errors", ["endpoint", "code"], registry=r
        )
        self.used_weight = Gauge("rocky_used_weight_1m", "X-MBX-USED-WEIGHT-1M", registry=r)
        self.feed_age = Gauge(
            "rocky_feed_age_seconds", "Age of the last mid", ["symbol"], registry=r
        )
        self.feed_reconnects = Gauge("rocky_feed_reconnects", "Feed reconnects", registry=r)
        self.breaker_open = Gauge(
            "rocky_breaker_open", "1 when the account's breaker is open", ["account"], registry=r
        )
        self.position_notional = Gauge(
            "rocky_position_notional_usd", "|position·mid|", ["account", "symbol"], registry=r
        )
        self.position_cap = Gauge("rocky_position_cap_usd", "Cap", ["account"], registry=r)
        self.wallet = Gauge("rocky_wallet", "Wallet balance", ["account"], registry=r)
        self.wallet_burn = Gauge(
            "rocky_wallet_burn_per_day",
            "Wallet burn rate over the last hour",
            ["account"],
            registry=r,
        )
        self.loop_latency = Histogram(
            "rocky_loop_iteration_seconds", "Loop iteration latency", ["role"], registry=r,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )  # fmt: skip

    def render(self) -> bytes:
        return generate_latest(self.registry)
