"""AccountState: one account's orders, in-flight requests and positions, as its loops see them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rocky_bot.account import AccountState
from rocky_bot.exchange.models import Order, OrderStatus, Position, Side
from rocky_bot.strategies.intents import Exposure, LiveQuote, Place

B, S = Side.BUY, Side.SELL
BTC, ETH = "BTCUSDT", "ETHUSDT"
NEW, PART, FILLED = OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED
CANCELED, EXPIRED = OrderStatus.CANCELED, OrderStatus.EXPIRED


def order(
    cid: str, status: OrderStatus = NEW, executed: str = "0", *, side: Side = B,
    qty: str = "0.001", price: str = "50000", symbol: str = BTC, order_id: int = 1,
) -> Order:  # fmt: skip
    return Order(symbol, order_id, cid, side, D(price), D(qty), D(executed), status)


def place(side: Side = B, qty: str = "0.001", symbol: str = BTC) -> Place:
    return Place(symbol, side, D("50000"), D(qty))


class Changes(list):
    def __call__(self, symbol: str, side: Side | None) -> None:
        self.append((symbol, side))


@pytest.fixture
def state() -> AccountState:
    return AccountState("mm-anchor", (BTC, ETH))


@pytest.fixture
def changes(state: AccountState) -> Changes:
    listener = Changes()
    state.on_change(listener)
    return listener


def placed(state: AccountState, cid: str, side: Side = B, qty: str = "0.001", **kw) -> None:
    state.begin_place(cid, place(side, qty, kw.get("symbol", BTC)))
    state.end_place(cid, order(cid, side=side, qty=qty, **kw))


# --- our own requests ----------------------------------------------------------------------------


def test_a_place_is_in_flight_until_its_ack_then_resting(state, changes):
    state.begin_place("c1", place(B, "0.002"))
    assert state.exposure(BTC) == Exposure(inflight_buy=D("0.002"))
    assert state.live_quotes(BTC, B) == []
    state.end_place("c1", order("c1", qty="0.002"))
    assert state.exposure(BTC) == Exposure(resting_buy=D("0.002"))
    assert state.live_quotes(BTC, B) == [LiveQuote("c1", B, D(50000), D("0.002"))]
    assert state.inflight == {}
    assert changes == []  # our own ack is no news to the loop that sent it


def test_a_rejected_place_leaves_nothing(state):
    state.begin_place("c1", place())
    state.end_place("c1", None)
    assert state.exposure(BTC) == Exposure()
    assert state.live_orders() == []


def test_an_ioc_that_filled_at_once_is_not_live_but_counts_as_a_fill(state):
    state.begin_place("t1", place(S))
    state.end_place("t1", order("t1", FILLED, "0.001", side=S))
    assert state.live_orders() == []
    assert state.exposure(BTC) == Exposure()
    assert state.fills == 1


def test_an_unknown_outcome_counts_as_live_until_reconciled(state, changes):
    state.begin_place("c1", place(S, "0.003"))
    state.end_place("c1", None, unknown=True)
    assert state.exposure(BTC) == Exposure(resting_sell=D("0.003"))
    (tracked,) = state.live_orders(BTC)
    assert tracked.status is None and tracked.order_id is None
    assert [q.client_order_id for q in state.live_quotes(BTC, S)] == ["c1"]
    mark = state.snapshot_mark()
    assert state.replace_open_orders(BTC, [], mark) == ["c1"]  # it never reached the book
    assert state.exposure(BTC) == Exposure()
    assert changes == [(BTC, S)]


def test_an_unknown_outcome_found_by_the_reconcile_is_adopted(state):
    state.begin_place("c1", place())
    state.end_place("c1", None, unknown=True)
    mark = state.snapshot_mark()
    assert state.replace_open_orders(BTC, [order("c1", order_id=77)], mark) == []
    (tracked,) = state.live_orders(BTC)
    assert (tracked.status, tracked.order_id) == (NEW, 77)


def test_an_unknown_outcome_already_reported_filled_stays_gone(state):
    state.begin_place("c1", place())
    state.apply_order(order("c1", FILLED, "0.001"))  # the stream beat the timed-out POST
    state.end_place("c1", None, unknown=True)
    assert state.live_orders() == []


# --- the stream ----------------------------------------------------------------------------------


def test_stream_updates_change_the_order_and_tell_the_loops(state, changes):
    placed(state, "c1", S, "0.004")
    state.apply_order(order("c1", PART, "0.001", side=S, qty="0.004"))
    assert state.exposure(BTC).resting_sell == D("0.003")
    assert state.fills == 1
    assert changes == [(BTC, S)]
    state.apply_order(order("c1", FILLED, "0.004", side=S, qty="0.004"))
    assert state.live_orders() == []
    assert state.fills == 2
    assert changes == [(BTC, S), (BTC, S)]


@pytest.mark.parametrize("final", [FILLED, CANCELED, EXPIRED, OrderStatus.REJECTED])
def test_a_terminal_status_is_final(state, changes, final):
    state.begin_place("c1", place())
    state.apply_order(order("c1", final, "0.001" if final is FILLED else "0"))
    state.end_place("c1", order("c1", NEW))  # the late ack of the POST
    state.apply_order(order("c1", NEW))  # a late stream echo
    assert state.live_orders() == []
    assert state.exposure(BTC) == Exposure()
    assert changes == [(BTC, B)]  # the terminal update only


def test_a_stale_reply_never_undoes_fills(state):
    placed(state, "c1", qty="0.004")
    state.apply_order(order("c1", PART, "0.003", qty="0.004"))
    state.apply_order(order("c1", NEW, "0", qty="0.004"))  # an older view arriving late
    assert state.exposure(BTC).resting_buy == D("0.001")


def test_forget_is_final(state):
    placed(state, "c1")
    state.forget("c1")
    state.apply_order(order("c1", NEW))
    assert state.live_orders() == []


# --- reconcile -----------------------------------------------------------------------------------


def test_reconcile_drops_orders_the_exchange_no_longer_has(state, changes):
    placed(state, "gone")
    placed(state, "kept", S)
    placed(state, "eth", symbol=ETH)
    mark = state.snapshot_mark()
    vanished = state.replace_open_orders(BTC, [order("kept", side=S)], mark)
    assert vanished == ["gone"]
    assert sorted(o.client_order_id for o in state.live_orders()) == ["eth", "kept"]
    assert changes == [(BTC, B)]
    state.apply_order(order("gone", NEW))  # and it cannot come back
    assert "gone" not in state.orders


def test_reconcile_keeps_orders_in_flight(state):
    state.begin_place("c1", place())
    state.end_place("c1", None, unknown=True)
    state.begin_place("c1", place())  # a retry of the same id is in flight again
    mark = state.snapshot_mark()
    assert state.replace_open_orders(BTC, [], mark) == []
    assert "c1" in state.orders


def test_reconcile_keeps_orders_acked_after_the_snapshot_was_requested(state):
    mark = state.snapshot_mark()  # openOrders request leaves
    placed(state, "new")  # ack lands before the reply
    assert state.replace_open_orders(BTC, [], mark) == []
    assert [o.client_order_id for o in state.live_orders()] == ["new"]


def test_reconcile_adopts_unknown_open_orders(state):
    mark = state.snapshot_mark()
    state.replace_open_orders(BTC, [order("leftover", side=S, qty="0.002")], mark)
    assert state.exposure(BTC) == Exposure(resting_sell=D("0.002"))


def test_reconcile_does_not_resurrect_an_order_closed_meanwhile(state):
    placed(state, "c1")
    mark = state.snapshot_mark()
    state.apply_order(order("c1", CANCELED))  # cancelled while the request was out
    assert state.replace_open_orders(BTC, [order("c1")], mark) == []
    assert state.live_orders() == []


def test_reconcile_does_not_undo_fills_seen_meanwhile(state):
    placed(state, "c1", qty="0.004")
    mark = state.snapshot_mark()
    state.apply_order(order("c1", PART, "0.002", qty="0.004"))
    state.replace_open_orders(BTC, [order("c1", qty="0.004")], mark)
    assert state.exposure(BTC).resting_buy == D("0.002")


# --- positions and exposure ----------------------------------------------------------------------


def pos(amount: str, symbol: str = BTC) -> Position:
    return Position(symbol, D(amount), D(50000), D(50000))


def test_unconfirmed_fills_count_until_a_later_account_update(state):
    state.set_position(pos("0.001"), 1000, now=1.0)
    state.apply_fill(BTC, B, D("0.002"), 1005)
    state.apply_fill(BTC, S, D("0.0005"), 1010)
    assert state.position(BTC) == D("0.0025")
    assert state.exposure(BTC).position == D("0.0025")
    state.set_position(pos("0.001"), 1004, now=2.0)  # older than both fills: still pending
    assert state.position(BTC) == D("0.0025")
    state.set_position(pos("0.003"), 1005, now=3.0)  # includes the first fill only
    assert state.position(BTC) == D("0.0025")
    state.set_position(pos("0.0025"), 1010, now=4.0)
    assert state.position(BTC) == D("0.0025")
    assert state.position_time[BTC] == 4.0


def test_a_rest_snapshot_replaces_unconfirmed_fills(state):
    state.apply_fill(BTC, S, D("0.001"), 1000)
    state.set_position(pos("-0.001"), None, now=5.0)
    assert state.position(BTC) == D("-0.001")


def test_positions_are_per_symbol(state):
    state.set_position(pos("0.5", ETH), 1, now=1.0)
    state.apply_fill(ETH, B, D("0.1"), 2)
    assert state.position(BTC) == 0
    assert state.position(ETH) == D("0.6")
    assert state.position("SOLUSDT") == 0


def test_exposure_sums_resting_and_in_flight_per_side(state):
    state.set_position(pos("0.001"), 1, now=1.0)
    placed(state, "b1", B, "0.001")
    placed(state, "b2", B, "0.002")
    placed(state, "s1", S, "0.004")
    state.apply_order(order("s1", PART, "0.001", side=S, qty="0.004"))
    state.begin_place("b3", place(B, "0.0005"))
    state.begin_place("s2", place(S, "0.0007"))
    placed(state, "other", B, "1", symbol=ETH)
    state.begin_place("other2", place(S, "1", ETH))
    assert state.exposure(BTC) == Exposure(
        position=D("0.001"),
        resting_buy=D("0.003"),
        resting_sell=D("0.003"),
        inflight_buy=D("0.0005"),
        inflight_sell=D("0.0007"),
    )
    assert state.exposure(BTC).worst_case(B) == D("0.0045")
    assert state.exposure(BTC).worst_case(S, D("0.001")) == D("-0.0037")


def test_wallet(state):
    assert state.wallet is None
    state.set_wallet(D(100), D(80))
    assert (state.wallet, state.available) == (D(100), D(80))
