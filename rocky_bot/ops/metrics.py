"""Prometheus metrics (`rocky_` prefix), one registry per fleet so tests can run several fleets.

Counters the code path can increment (orders, API requests) are incremented where they happen;
values that live in the fleet's own state (fills, wallets, feed ages) are copied in when
`/metrics` is scraped (see `status.refresh_metrics`), so there is one source of truth for each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from rocky_bot.exchange.client import RequestRecord


#: Distinct values a label fed from the exchange (an error code, a rejection reason, an endpoint)
#: may take before new ones are counted as "other": each value is a series for as long as the
#: process lives, so weeks of a misbehaving exchange must not grow /metrics without bound.
MAX_LABEL_VALUES = 64
OTHER = "other"


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
        self.request_weight = Counter(
            "rocky_request_weight",
            "Request weight sent, from the weight table: as Binance charges it, and with every "
            "order action at 1 (how the budget is planned)",
            ["counting"],
            registry=r,
        )
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

        self.breaker_half_open = Gauge(
            "rocky_breaker_half_open",
            "1 when the account's breaker is half-open (probing)",
            ["account"],
            registry=r,
        )
        self.wallet_days_left = Gauge(
            "rocky_wallet_days_to_empty",
            "Wallet / burn rate: days until the wallet is empty at the last hour's pace",
            ["account"],
            registry=r,
        )
        self.symbol_fills = Counter(
            "rocky_symbol_fills", "Fills of the fleet's orders, by symbol", ["symbol"], registry=r
        )
        self.breaker_trips = Counter(
            "rocky_breaker_trips", "Breaker trips by cause", ["account", "kind"], registry=r
        )
        self.runway = Gauge(
            "rocky_runway_hours",
            "Hours until the account stops trading by itself (empty or at its drawdown line); "
            "+Inf while not burning",
            ["account"],
            registry=r,
        )
        self.hours_to_line = Gauge(
            "rocky_hours_to_drawdown_line",
            "Hours until the wallet reaches the breaker's drawdown line at the current burn",
            ["account"],
            registry=r,
        )
        self.fleet_runway = Gauge(
            "rocky_fleet_runway_hours", "Fleet wallet / fleet burn, in hours", registry=r
        )
        self.unfunded = Gauge(
            "rocky_unfunded_seconds",
            "Seconds the wallet has been under the funding floor without a deposit (0: above it)",
            ["account"],
            registry=r,
        )
        self.last_funding_age = Gauge(
            "rocky_last_funding_age_seconds",
            "Seconds since a deposit reached any account (+Inf: none since start)",
            registry=r,
        )
        self._totals: dict[tuple[int, tuple[str, ...]], float] = {}
        self._label_values: dict[str, set[str]] = {}

    def bounded(self, label: str, value: str) -> str:
        """`value` for the label `label`, or "other" once it has had MAX_LABEL_VALUES others."""
        seen = self._label_values.setdefault(label, set())
        if value in seen:
            return value
        if len(seen) >= MAX_LABEL_VALUES:
            return OTHER
        seen.add(value)
        return value

    def record_request(self, record: RequestRecord, used_weight: int) -> None:
        """One REST attempt (the client's `on_request` hook): counted by endpoint and method; a
        failure also by its code: Binance's (negative, `-2019`), else `http_503`, or `transport`
        when no reply came at all (timeout, refused connection). A success body may carry a
        code too (`{"code": 200}` after cancelling all orders): that is not an error."""
        endpoint = self.bounded("endpoint", record.endpoint)
        self.api_requests.labels(endpoint, self.bounded("method", record.method)).inc()
        self.request_weight.labels("charged").inc(record.weight)
        self.request_weight.labels("orders_at_1").inc(record.weight_at_1)
        code = None
        if record.code is not None and record.code < 0:
            code = str(record.code)
        elif record.http_status is None:
            code = "transport"
        elif record.http_status >= 400:
            code = f"http_{record.http_status}"
        if code is not None:
            self.api_errors.labels(endpoint, self.bounded("code", code)).inc()
        self.used_weight.set(used_weight)

    def observe_iteration(self, role: str, seconds: float) -> None:
        """One strategy-loop iteration took `seconds` (fed by the loops' `on_iteration` hook)."""
        self.loop_latency.labels(role).observe(seconds)

    def count_to(self, counter: Counter, total: float, *labels: str) -> None:
        """Advance `counter{labels}` to a running total kept elsewhere (e.g. AccountState.fills).

        A total that went down (a restarted account state) starts a new run from zero rather
        than making the counter go backwards, which Prometheus would read as a reset anyway.
        """
        key = (id(counter), labels)
        seen = self._totals.get(key, 0.0)
        if total < seen:
            seen = 0.0
        if total > seen:
            counter.labels(*labels).inc(total - seen)
        else:
            counter.labels(*labels)  # the series exists (at 0) before its first event
        self._totals[key] = total

    def render(self) -> bytes:
        return generate_latest(self.registry)
