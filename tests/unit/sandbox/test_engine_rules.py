"""Binance's order rules in the engine: price protection, self-trade prevention, reduce-only
margin, and what an account's history and events record."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from test_engine import limit, make, rejects

from rocky_bot.sandbox.orders import OrderRequest

MARK = D("95000")  # BTCUSDT's start price is the engine's mark until set_mark


def market(side: str, qty: str) -> OrderRequest:
    return OrderRequest("BTCUSDT", side, "MARKET", D(qty))


@pytest.mark.parametrize(
    ("side", "price", "code"),
    [
        ("BUY", "99750.1", -4016),  # above mark × 1.05: the multiplier cap
        ("SELL", "90249.9", -4024),  # below mark × 0.95: the multiplier floor
        ("SELL", "10.00", -4024),  # the sell of 1 BTC at 10.00
        ("BUY", "4529764.1", -4002),  # above maxPrice: Binance's code, not -4016
        ("BUY", "0", -4001),
    ],
)
def test_prices_outside_the_filters_get_binances_codes(side, price, code) -> None:
    engine, _, _ = make("a")
    rejects(code, engine.submit, "a", limit(side, "0.001", price))
    assert engine.open_orders("a") == []


def test_percent_price_is_one_sided_and_leaves_the_takers_50_bps_alone() -> None:
    engine, _, _ = make("maker", "taker")
    engine.submit("maker", limit("BUY", "0.001", "90250"))  # a buy far below the mark is fine
    engine.submit("maker", limit("SELL", "0.001", "99750"))  # a sell far above too
    engine.submit("maker", limit("SELL", "0.001", "95100"))
    taken = engine.submit("taker", limit("BUY", "0.001", str(MARK * D("1.005")), "IOC"))
    assert taken.status == "FILLED" and taken.avg_price == D("95100")


def test_a_market_order_stops_at_the_take_bound_and_fails_when_the_book_is_out_of_band() -> None:
    engine, _, _ = make("maker", "taker")
    engine.submit("maker", limit("SELL", "0.001", "96000"))
    engine.submit("maker", limit("SELL", "0.001", "99700"))  # within PERCENT_PRICE, past 5 %?
    engine.set_mark("BTCUSDT", D("94900"))  # bound = 94900 × 1.05 = 99645: the 2nd is out
    bought = engine.submit("taker", market("BUY", "0.002"))
    assert bought.status == "EXPIRED" and bought.executed_qty == D("0.001")
    engine.set_mark("BTCUSDT", D("94000"))  # best ask 99700 > 94000 × 1.05: -4131
    rejects(-4131, engine.submit, "taker", market("BUY", "0.001"))


def test_conditional_orders_are_sent_to_the_algo_api_as_on_binance() -> None:
    engine, _, _ = make("a")
    stop = OrderRequest("BTCUSDT", "SELL", "STOP_MARKET", D("0.001"))
    rejects(-4120, engine.submit, "a", stop)
    rejects(-1116, engine.submit, "a", OrderRequest("BTCUSDT", "SELL", "ICEBERG", D("0.001")))
    rejects(-5039, engine.submit, "a", limit("BUY", "0.001", "95000", stp_mode="EXPIRE_ALL"))


@pytest.mark.parametrize(
    ("mode", "taker_status", "maker_status", "filled"),
    [
        ("NONE", "FILLED", "FILLED", "0.001"),
        ("EXPIRE_TAKER", "EXPIRED_IN_MATCH", "NEW", "0"),
        ("EXPIRE_MAKER", "NEW", "EXPIRED_IN_MATCH", "0"),
        ("EXPIRE_BOTH", "EXPIRED_IN_MATCH", "EXPIRED_IN_MATCH", "0"),
    ],
)
def test_self_trade_prevention_follows_the_takers_mode(
    mode, taker_status, maker_status, filled
) -> None:
    engine, _, sink = make("a")
    maker = engine.submit("a", limit("SELL", "0.001", "95000"))
    taker = engine.submit("a", limit("BUY", "0.001", "95000", stp_mode=mode))
    assert (taker.status, taker.executed_qty, taker.stp_mode) == (taker_status, D(filled), mode)
    assert engine.query("a", "BTCUSDT", maker.order_id).status == maker_status
    updates = [p["o"] for _, p in sink.events if p["e"] == "ORDER_TRADE_UPDATE"]
    expired = [(o["i"], o["x"]) for o in updates if o["X"] == "EXPIRED_IN_MATCH"]
    expected = {maker.order_id} if maker_status == "EXPIRED_IN_MATCH" else set()
    expected |= {taker.order_id} if taker_status == "EXPIRED_IN_MATCH" else set()
    assert sorted(expired) == sorted((i, "EXPIRED") for i in expected)


def test_other_accounts_still_trade_whatever_the_mode() -> None:
    engine, _, _ = make("a", "b")
    engine.submit("a", limit("SELL", "0.001", "95000"))
    taken = engine.submit("b", limit("BUY", "0.001", "95000", stp_mode="EXPIRE_BOTH"))
    assert taken.status == "FILLED"


def test_a_reduce_only_order_reserves_no_initial_margin() -> None:
    engine, _, _ = make("long", "other", cash="20")
    engine.submit("other", limit("SELL", "0.002", "95000"))
    engine.submit("long", limit("BUY", "0.002", "95000", "IOC"))  # IM 9.50 of 20 at 20x
    before = engine.account_view("long").available_balance
    engine.submit("long", limit("SELL", "0.002", "96000", reduce_only=True))
    view = engine.account_view("long")
    assert view.available_balance == before and view.order_im_money == 0


def test_leverage_change_is_pushed_and_fills_leave_income_lines() -> None:
    engine, _, sink = make("a", "b")
    engine.set_leverage("a", "BTCUSDT", 7)
    assert sink.events[-1][1] | {"E": 0, "T": 0} == {
        "e": "ACCOUNT_CONFIG_UPDATE", "E": 0, "T": 0, "ac": {"s": "BTCUSDT", "l": 7},
    }  # fmt: skip
    engine.submit("b", limit("SELL", "0.001", "95000"))
    engine.submit("a", limit("BUY", "0.001", "95000"))
    engine.submit("b", limit("BUY", "0.001", "95100"))
    engine.submit("a", limit("SELL", "0.001", "95100"))  # a closes its long: +0.10 realized
    lines = [(i.kind, i.money) for i in engine.incomes("a")]
    assert lines[0] == ("TRANSFER", 1000 * 10**8)
    assert ("REALIZED_PNL", 10_000_000) in lines
    assert [k for k, _ in lines].count("COMMISSION") == 2
    assert [o.status for o in engine.all_orders("a", "BTCUSDT")] == ["FILLED", "FILLED"]
    assert engine.open_interest("BTCUSDT") == 0


def test_open_orders_per_account_and_symbol_stop_at_max_num_orders() -> None:
    """exchangeInfo says MAX_NUM_ORDERS 200: the 201st resting order is -2025 and changes
    nothing; a cancel frees a slot; another symbol and another account have their own."""
    engine, _, _ = make("a", "b", cash="100000")
    placed = [engine.submit("a", limit("BUY", "0.001", str(94000 + i))) for i in range(200)]
    before = engine.account_view("a")
    rejects(-2025, engine.submit, "a", limit("BUY", "0.001", "89000"))
    rejects(-2025, engine.submit, "a", market("SELL", "0.001"))
    assert len(engine.open_orders("a")) == 200 and engine.account_view("a") == before
    engine.submit("b", limit("SELL", "0.001", "99000"))  # another account: its own 200
    eth = OrderRequest("ETHUSDT", "BUY", "LIMIT", D("0.01"), D("3400"), "GTC")
    engine.submit("a", eth)  # another symbol: its own 200
    engine.cancel("a", "BTCUSDT", placed[0].order_id)
    engine.submit("a", limit("BUY", "0.001", "89000"))
    assert len(engine.open_orders("a", "BTCUSDT")) == 200
