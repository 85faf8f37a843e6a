"""Steady state: what grows with time is bounded (issue 10, "weeks unattended").

Each test drives a structure through a week's worth of its traffic (or the worst an exchange or
the internet can send it) and asserts its size stops at a bound. The audit, structure by
structure, is in README.md ("Steady state"); these are the ones that needed a bound or whose
bound is not a `deque(maxlen=...)` one can read off the code.
"""

from __future__ import annotations

from decimal import Decimal

from rocky_bot.account.state import CLOSED_IDS, CLOSED_TTL_S, AccountState
from rocky_bot.exchange.client import RequestRecord
from rocky_bot.exchange.models import Order, OrderStatus, Position, Side
from rocky_bot.ops.metrics import MAX_LABEL_VALUES, Metrics
from rocky_bot.ops.runway import MAX_SAMPLES, WalletHistory
from rocky_bot.sandbox.config import BTCUSDT, ETHUSDT
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.ledger import CLOSED_HISTORY, FILL_HISTORY, INCOME_HISTORY
from rocky_bot.sandbox.orders import OrderRequest
from rocky_bot.sandbox.rest_limits import WeightMeter
from rocky_bot.sandbox.ws_limits import MAX_TRACKED_IPS, ConnectionGate

D = Decimal
WEEK_S = 7 * 86400


def series(metrics: Metrics, name: str) -> int:
    return sum(1 for family in metrics.registry.collect() for s in family.samples if s.name == name)


def test_error_codes_from_the_exchange_cannot_grow_metrics_without_bound() -> None:
    metrics = Metrics()
    for code in range(-1, -10_001, -1):  # an exchange inventing a code per request
        record = RequestRecord("a", "POST", "/fapi/v1/order", 400, code, 1, 0.01)
        metrics.record_request(record, 0)
    assert series(metrics, "rocky_api_errors_total") == MAX_LABEL_VALUES + 1  # + "other"
    body = metrics.render().decode()
    assert 'code="-1"' in body and 'code="other"' in body  # early codes stay themselves


def test_rejection_reasons_are_bounded_like_codes() -> None:
    metrics = Metrics()
    values = {metrics.bounded("reject_reason", f"code_{c}") for c in range(1000)}
    assert len(values) == MAX_LABEL_VALUES + 1
    assert metrics.bounded("reject_reason", "code_0") == "code_0"


def order(cid: str, status: OrderStatus, executed: str = "0", oid: int = 1) -> Order:
    return Order("BTCUSDT", oid, cid, Side.BUY, D("95000"), D("0.001"), D(executed), status)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_account_state_holds_the_same_after_a_week_of_orders() -> None:
    """A maker's week: an order life every 10 s (placed, partly filled on the stream,
    its position confirmed, then cancelled or filled). Closed ids are kept ten minutes, so the
    state is flat from then on, not after 4096 orders (11 hours here, days for most accounts)."""
    clock = Clock()
    state = AccountState("mm-l1-buy-05bps", ["BTCUSDT"], clock=clock)
    sizes = []
    for i in range(WEEK_S // 10):
        clock.now = i * 10.0
        cid = f"rb1-0-0B-{i}"
        state.begin_place(cid, None)  # type: ignore[arg-type]
        state.end_place(cid, order(cid, OrderStatus.NEW, oid=i))
        if i % 3 == 0:  # a fill: stream event first, then the position update confirming it
            state.apply_fill("BTCUSDT", Side.BUY, D("0.001"), event_time_ms=i * 2000)
            state.apply_order(order(cid, OrderStatus.FILLED, "0.001", oid=i))
            position = Position("BTCUSDT", D("0.001"), D("95000"), D("95000"))
            state.set_position(position, event_time_ms=i * 2000 + 1, now=float(i))
        else:
            state.apply_order(order(cid, OrderStatus.CANCELED, oid=i))
        if i % 10_000 == 0:
            sizes.append(state.footprint())
    final = state.footprint()
    held = int(CLOSED_TTL_S // 10) + 1  # the last ten minutes of orders
    assert final == {"orders": 0, "inflight": 0, "closed_ids": held, "unconfirmed_fills": 0}
    assert sizes[1:] == [final] * (len(sizes) - 1)  # flat since the first day
    assert state.fills == len(range(0, WEEK_S // 10, 3))


def test_closed_ids_stay_bounded_by_count_at_the_rate_guards_pace() -> None:
    """An account finishing orders as fast as the rate guard lets it (15 a second): the ten
    minutes of ids would be 9,000; the count bound holds first."""
    clock = Clock()
    state = AccountState("mm-anchor", ["BTCUSDT"], clock=clock)
    for i in range(3 * CLOSED_IDS):
        clock.now = i / 15
        state.forget(f"rb1-0-0B-{i}")
    assert state.footprint()["closed_ids"] == CLOSED_IDS


def test_the_wallet_history_holds_an_hour_of_steps_however_busy_the_stream() -> None:
    """A busy account's wallet changes with every fill: a stream update every 2 s for a week.
    The history holds the last hour's steps from the first hour on (it held 720 readings of
    ~300 B, which took hours to fill on the soak's 30 accounts and looked like a leak)."""
    history = WalletHistory()
    sizes = []
    for i in range(WEEK_S // 2):
        at = i * 2.0
        history.note(at, D(100) - D(i % 50), D(i * 100))
        if i % 3600 == 0:  # every 2 hours
            sizes.append(len(history))
    assert MAX_SAMPLES == 62  # the first reading of each minute of the hour, and the newest
    assert all(60 <= size <= MAX_SAMPLES for size in sizes[1:])  # flat from the first hour
    assert history.burn_per_day(WEEK_S - 2.0) is not None


def test_the_sandbox_keeps_bounded_history_per_account() -> None:
    engine = Engine([BTCUSDT, ETHUSDT], clock_ms=lambda: 1_700_000_000_000)
    for name in ("maker", "taker"):
        engine.open_account(name)
        engine.credit(name, D(10**9))
    for i in range(3 * max(CLOSED_HISTORY, FILL_HISTORY, INCOME_HISTORY)):
        for name, side, tif in (("maker", "SELL", "GTC"), ("taker", "BUY", "IOC")):
            request = OrderRequest(
                "BTCUSDT", side, "LIMIT", D("0.001"), D("95000"), tif, client_order_id=f"{name}{i}"
            )
            engine.submit(name, request)
    for name in ("maker", "taker"):
        acct = engine.accounts[name]
        assert len(acct.closed) == CLOSED_HISTORY
        assert len(acct.closed_by_client) == CLOSED_HISTORY
        assert len(acct.fills["BTCUSDT"]) == FILL_HISTORY
        assert len(acct.incomes) == INCOME_HISTORY
        assert not acct.open_by_client


def test_the_sandbox_forgets_idle_client_ips() -> None:
    meter = WeightMeter(2400, max_tracked=100)
    for n in range(10_000):  # one request each from ten thousand addresses, a second apart
        meter.admit(f"10.0.{n // 256}.{n % 256}", 1, n * 1000)
    assert meter.tracked() <= 101
    clock = [0.0]
    gate = ConnectionGate(clock=lambda: clock[0])
    for n in range(5 * MAX_TRACKED_IPS):
        clock[0] = n * 1.0  # each connects once and leaves
        ip = f"10.1.{n // 256}.{n % 256}"
        assert gate.admit(ip) is None
        gate.release(ip)
    assert gate.tracked() <= MAX_TRACKED_IPS + 1
