"""Matching, order types and the order lifecycle of the sandbox engine."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from rocky_bot.sandbox.config import BTCUSDT, ETHUSDT, SymbolSpec
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.orders import OrderRequest


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.ms


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def wants(self, account: str) -> bool:
        return True

    def emit(self, account: str, payload: dict[str, Any]) -> None:
        self.events.append((account, payload))


def make(*names: str, cash: str = "1000", symbols: tuple[SymbolSpec, ...] = (BTCUSDT, ETHUSDT)):
    clock, sink = Clock(), Recorder()
    engine = Engine(symbols, clock_ms=clock, sink=sink)
    for name in names:
        engine.open_account(name)
        engine.credit(name, D(cash))
    sink.events.clear()
    return engine, clock, sink


def limit(side: str, qty: str, price: str, tif: str = "GTC", **kw: Any) -> OrderRequest:
    return OrderRequest("BTCUSDT", side, "LIMIT", D(qty), D(price), tif, **kw)


def rejects(code: int, fn: Any, *args: Any, **kw: Any) -> None:
    with pytest.raises(SandboxError) as info:
        fn(*args, **kw)
    assert info.value.code == code, info.value


def test_crossing_limit_fills_at_the_resting_price() -> None:
    engine, _, _ = make("maker", "taker")
    engine.submit("maker", limit("SELL", "0.001", "95000"))
    taken = engine.submit("taker", limit("BUY", "0.001", "95100"))
    assert taken.status == "FILLED"
    assert taken.avg_price == D("95000")
    assert engine.open_orders("maker") == []
    trade = engine.tapes["BTCUSDT"].trades[-1]
    assert (trade.price_ticks, trade.qty_steps, trade.buyer_maker) == (950000, 10, False)


def test_partial_fill_leaves_the_rest_resting() -> None:
    engine, _, _ = make("maker", "taker")
    resting = engine.submit("maker", limit("SELL", "0.003", "95000"))
    engine.submit("taker", limit("BUY", "0.001", "95000"))
    (left,) = engine.open_orders("maker")
    assert left.order_id == resting.order_id
    assert left.status == "PARTIALLY_FILLED"
    assert (left.executed_qty, left.orig_qty) == (D("0.0010"), D("0.0030"))
    level = engine.books["BTCUSDT"].best(-1)
    assert level is not None and level.qty == 20


def test_price_then_time_priority() -> None:
    engine, _, _ = make("first", "second", "better", "taker")
    first = engine.submit("first", limit("SELL", "0.001", "95000"))
    second = engine.submit("second", limit("SELL", "0.001", "95000"))
    better = engine.submit("better", limit("SELL", "0.001", "94999.9"))
    engine.submit("taker", limit("BUY", "0.002", "95000"))
    assert engine.query("better", "BTCUSDT", better.order_id).status == "FILLED"
    assert engine.query("first", "BTCUSDT", first.order_id).status == "FILLED"
    assert engine.query("second", "BTCUSDT", second.order_id).status == "NEW"


def test_taker_sweeps_levels_and_gets_average_price() -> None:
    engine, _, _ = make("m", "t")
    engine.submit("m", limit("SELL", "0.001", "95000"))
    engine.submit("m", limit("SELL", "0.001", "95001"))
    taken = engine.submit("t", limit("BUY", "0.002", "95001"))
    assert taken.avg_price == D("95000.5")
    assert taken.cum_quote == D("190.001")


def test_ioc_expires_its_unfilled_rest() -> None:
    engine, _, sink = make("m", "t")
    engine.submit("m", limit("SELL", "0.001", "95000"))
    taken = engine.submit("t", limit("BUY", "0.003", "95050", "IOC"))
    assert (taken.status, taken.executed_qty) == ("EXPIRED", D("0.001"))
    assert engine.open_orders("t") == []
    assert [p["o"]["x"] for a, p in sink.events if a == "t" and p["e"] == "ORDER_TRADE_UPDATE"] == [
        "NEW",
        "TRADE",
        "EXPIRED",
    ]


def test_fok_is_all_or_nothing() -> None:
    engine, _, _ = make("m", "t")
    engine.submit("m", limit("SELL", "0.001", "95000"))
    rejects(-5021, engine.submit, "t", limit("BUY", "0.002", "95000", "FOK"))
    assert len(engine.open_orders("m")) == 1  # nothing traded
    assert engine.submit("t", limit("BUY", "0.001", "95000", "FOK")).status == "FILLED"


def test_post_only_rejected_when_it_would_take() -> None:
    engine, _, _ = make("m", "t")
    engine.submit("m", limit("SELL", "0.001", "95000"))
    rejects(-5022, engine.submit, "t", limit("BUY", "0.001", "95000", "GTX"))
    assert engine.submit("t", limit("BUY", "0.001", "94999.9", "GTX")).status == "NEW"


def test_market_order_takes_best_prices_and_expires_the_rest() -> None:
    engine, _, _ = make("m", "t")
    engine.submit("m", limit("BUY", "0.001", "94990"))
    sold = engine.submit("t", OrderRequest("BTCUSDT", "SELL", "MARKET", D("0.002")))
    assert (sold.status, sold.executed_qty, sold.avg_price) == ("EXPIRED", D("0.001"), D("94990"))


def test_same_account_crossing_is_matched_stp_none() -> None:
    engine, _, _ = make("solo")
    engine.submit("solo", limit("SELL", "0.001", "95000"))
    assert engine.submit("solo", limit("BUY", "0.001", "95000")).status == "FILLED"
    view = engine.account_view("solo")
    assert view.positions[0].amt_steps == 0
    assert view.wallet_balance == D("1000") - D("0.019") - D("0.0475")


@pytest.mark.parametrize(
    ("qty", "price", "code"),
    [
        ("0.001", "95000.05", -4014),  # 2 decimals allowed (pricePrecision) but off the 0.1 tick
        ("0.001", "95000.051", -1111),  # beyond pricePrecision
        ("0.00001", "95000", -1111),  # beyond quantityPrecision
        ("0.0000", "95000", -4003),
        ("0.0001", "40000", -4164),  # 4 USDT < min notional 5
    ],
)
def test_filter_errors(qty: str, price: str, code: int) -> None:
    engine, _, _ = make("a")
    rejects(code, engine.submit, "a", limit("BUY", qty, price))


def test_step_error_when_quantity_is_on_precision_but_off_step() -> None:
    coarse = SymbolSpec(
        "BTCUSDT", "BTC", D("95000"), D("0.1"), D("0.001"), D("0.001"), D("5"), 2, 4
    )
    engine, _, _ = make("a", symbols=(coarse,))
    rejects(-4023, engine.submit, "a", limit("BUY", "0.0015", "95000"))


def test_unknown_symbol_and_duplicate_client_id() -> None:
    engine, _, _ = make("a")
    rejects(-1121, engine.submit, "a", OrderRequest("DOGEUSDT", "BUY", "LIMIT", D("1"), D("1")))
    engine.submit("a", limit("BUY", "0.001", "90000", client_order_id="q-1"))
    rejects(-4116, engine.submit, "a", limit("BUY", "0.001", "90000", client_order_id="q-1"))
    rejects(-4015, engine.submit, "a", limit("BUY", "0.001", "90000", client_order_id="bad id!"))


def test_generated_client_ids_and_increasing_order_ids() -> None:
    engine, _, _ = make("a")
    one = engine.submit("a", limit("BUY", "0.001", "90000"))
    two = engine.submit("a", limit("BUY", "0.001", "90000"))
    assert two.order_id > one.order_id
    assert one.client_order_id.startswith("autoclient")
    assert one.client_order_id != two.client_order_id


def test_cancel_and_query_by_client_id_after_close() -> None:
    engine, _, _ = make("a")
    engine.submit("a", limit("BUY", "0.001", "90000", client_order_id="mine"))
    assert engine.cancel("a", "BTCUSDT", client_id="mine").status == "CANCELED"
    assert engine.query("a", "BTCUSDT", client_id="mine").status == "CANCELED"
    rejects(-2011, engine.cancel, "a", "BTCUSDT", client_id="mine")
    rejects(-2013, engine.query, "a", "BTCUSDT", order_id=999_999)
    assert engine.books["BTCUSDT"].best(1) is None


def test_cancel_all_only_touches_that_account_and_symbol() -> None:
    engine, _, _ = make("a", "b")
    engine.submit("a", limit("BUY", "0.001", "90000"))
    engine.submit("a", limit("BUY", "0.001", "90001"))
    engine.submit("a", OrderRequest("ETHUSDT", "BUY", "LIMIT", D("0.01"), D("3000")))
    engine.submit("b", limit("BUY", "0.001", "90000"))
    assert len(engine.cancel_all("a", "BTCUSDT")) == 2
    assert [o.symbol for o in engine.open_orders("a")] == ["ETHUSDT"]
    assert len(engine.open_orders("b")) == 1


def test_modify_keeps_id_changes_price_and_loses_priority() -> None:
    engine, _, sink = make("a", "b", "t")
    a = engine.submit("a", limit("SELL", "0.001", "95000"))
    engine.submit("b", limit("SELL", "0.001", "95000"))
    moved = engine.modify("a", "BTCUSDT", side="SELL", quantity=D("0.002"), price=D("95000"),
                          order_id=a.order_id)  # fmt: skip
    assert (moved.order_id, moved.orig_qty, moved.status) == (a.order_id, D("0.002"), "NEW")
    engine.submit("t", limit("BUY", "0.001", "95000"))
    assert len(engine.open_orders("b")) == 0  # b is now first in the queue
    assert any(p["o"]["x"] == "AMENDMENT" for acct, p in sink.events if acct == "a")
    rejects(-5027, engine.modify, "a", "BTCUSDT", side="SELL", quantity=D("0.002"),
            price=D("95000"), order_id=a.order_id)  # fmt: skip


def test_modify_that_crosses_trades_and_bad_filter_leaves_order() -> None:
    engine, _, _ = make("a", "b")
    engine.submit("b", limit("SELL", "0.001", "95000"))
    mine = engine.submit("a", limit("BUY", "0.001", "94000"))
    rejects(-4014, engine.modify, "a", "BTCUSDT", side="BUY", quantity=D("0.001"),
            price=D("94000.05"), order_id=mine.order_id)  # fmt: skip
    assert engine.open_orders("a")[0].price == D("94000")
    filled = engine.modify("a", "BTCUSDT", side="BUY", quantity=D("0.001"), price=D("95000"),
                           order_id=mine.order_id)  # fmt: skip
    assert filled.status == "FILLED"


def test_countdown_cancels_that_symbol_when_it_runs_out() -> None:
    engine, clock, _ = make("a")
    engine.submit("a", limit("BUY", "0.001", "90000"))
    engine.submit("a", OrderRequest("ETHUSDT", "BUY", "LIMIT", D("0.01"), D("3000")))
    engine.countdown_cancel_all("a", "BTCUSDT", 10_000)
    clock.ms += 9_999
    assert engine.expire_countdowns(clock.ms) == 0
    engine.countdown_cancel_all("a", "BTCUSDT", 10_000)  # heartbeat re-arms
    clock.ms += 9_999
    assert engine.expire_countdowns(clock.ms) == 0
    clock.ms += 1
    assert engine.expire_countdowns(clock.ms) == 1
    assert [o.symbol for o in engine.open_orders("a")] == ["ETHUSDT"]
    engine.countdown_cancel_all("a", "ETHUSDT", 5_000)
    engine.countdown_cancel_all("a", "ETHUSDT", 0)  # disarmed
    clock.ms += 60_000
    assert engine.expire_countdowns(clock.ms) == 0


def test_fill_events_are_binance_shaped() -> None:
    engine, _, sink = make("m", "t")
    engine.submit("m", limit("SELL", "0.001", "95000", client_order_id="ask-1"))
    sink.events.clear()
    engine.submit("t", limit("BUY", "0.001", "95000"))
    maker_events = [p for a, p in sink.events if a == "m"]
    update = next(p for p in maker_events if p["e"] == "ORDER_TRADE_UPDATE")["o"]
    assert update["x"] == "TRADE" and update["X"] == "FILLED" and update["m"] is True
    assert (update["c"], update["l"], update["L"], update["n"]) == (
        "ask-1",
        "0.0010",
        "95000.00",
        "0.01900000",
    )
    assert isinstance(update["i"], int) and isinstance(update["t"], int)
    account = next(p for p in maker_events if p["e"] == "ACCOUNT_UPDATE")["a"]
    assert account["B"][0]["wb"] == "999.98100000"
    assert account["P"][0]["pa"] == "-0.0010" and account["P"][0]["ep"] == "95000.00000000"


def test_klines_and_tape_record_trades() -> None:
    engine, clock, _ = make("m", "t")
    engine.submit("m", limit("SELL", "0.002", "95000"))
    engine.submit("t", limit("BUY", "0.001", "95000"))
    clock.ms += 120_000
    engine.submit("t", limit("BUY", "0.001", "95000"))
    tape = engine.tapes["BTCUSDT"]
    candles = tape.candles["1m"].candles(clock.ms, None, None, 10)
    assert [k.volume for k in candles] == [10, 0, 10]  # the quiet minute is a flat candle
    assert tape.count_since(clock.ms - 60_000) == 1
