"""Positions, PnL, fees and cross margin of the sandbox engine (exact Decimal values)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rocky_bot.sandbox.config import BTCUSDT, ETHUSDT
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.orders import OrderRequest


def make(cash: dict[str, str]) -> Engine:
    engine = Engine([BTCUSDT, ETHUSDT], clock_ms=lambda: 1_700_000_000_000)
    for name, amount in cash.items():
        engine.open_account(name)
        engine.credit(name, D(amount))
    return engine


def order(side: str, qty: str, price: str, *, reduce_only: bool = False, tif: str = "GTC"):
    return OrderRequest("BTCUSDT", side, "LIMIT", D(qty), D(price), tif, reduce_only)


def trade(engine: Engine, maker: str, taker: str, taker_side: str, qty: str, price: str) -> None:
    maker_side = "SELL" if taker_side == "BUY" else "BUY"
    engine.submit(maker, order(maker_side, qty, price))
    assert engine.submit(taker, order(taker_side, qty, price)).status == "FILLED"


def wallet(engine: Engine, name: str) -> D:
    return engine.account_view(name).wallet_balance


def test_round_trip_pnl_and_fees_are_exact() -> None:
    engine = make({"a": "100", "b": "100"})
    trade(engine, "a", "b", "BUY", "0.001", "95000")  # notional 95
    assert wallet(engine, "a") == D("99.981")  # maker 0.02 % = 0.019
    assert wallet(engine, "b") == D("99.9525")  # taker 0.05 % = 0.0475
    trade(engine, "a", "b", "SELL", "0.001", "95100")  # notional 95.1, b closes +0.1
    assert wallet(engine, "b") == D("99.9525") + D("0.1") - D("0.04755")
    assert wallet(engine, "a") == D("99.981") - D("0.1") - D("0.01902")
    fills = list(engine.accounts["b"].fills["BTCUSDT"])
    assert [f.realized_pnl for f in fills] == [D(0), D("0.1")]
    assert [f.commission for f in fills] == [D("0.0475"), D("0.04755")]


def test_average_entry_and_partial_close() -> None:
    engine = make({"long": "1000", "m": "1000"})
    trade(engine, "m", "long", "BUY", "0.001", "95000")
    trade(engine, "m", "long", "BUY", "0.001", "96000")
    pos = engine.account_view("long").positions[0]
    assert (pos.amount, pos.entry_price) == (D("0.002"), D("95500"))
    trade(engine, "m", "long", "SELL", "0.0015", "97000")
    pos = engine.account_view("long").positions[0]
    assert (pos.amount, pos.entry_price) == (D("0.0005"), D("95500"))
    assert engine.accounts["long"].fills["BTCUSDT"][-1].realized_pnl == D("2.25")


def test_flip_from_long_to_short_realizes_the_close_and_opens_at_the_fill() -> None:
    engine = make({"a": "1000", "m": "1000"})
    trade(engine, "m", "a", "BUY", "0.001", "95000")
    trade(engine, "m", "a", "SELL", "0.003", "94000")
    pos = engine.account_view("a").positions[0]
    assert (pos.amount, pos.entry_price) == (D("-0.002"), D("94000"))
    assert engine.accounts["a"].fills["BTCUSDT"][-1].realized_pnl == D("-1")


def test_unrealized_pnl_follows_the_mark() -> None:
    engine = make({"a": "1000", "m": "1000"})
    trade(engine, "m", "a", "BUY", "0.002", "95000")
    engine.set_mark("BTCUSDT", D("95250.55"))
    view = engine.account_view("a")
    assert view.positions[0].unrealized_pnl == D("0.5011")
    assert engine.mark("BTCUSDT") == D("95250.55")


def test_margin_rejection_when_available_balance_cannot_cover() -> None:
    engine = make({"small": "5"})  # 5 USDT at 20x: up to 100 USDT of orders
    engine.submit("small", order("BUY", "0.001", "95000"))  # IM 4.75
    with pytest.raises(SandboxError) as info:
        engine.submit("small", order("BUY", "0.0001", "95000"))  # + 0.475 > 0.25 left
    assert info.value.code == -2019
    assert engine.account_view("small").available_balance == D("0.25")


def test_both_sides_pay_for_the_worse_side_only() -> None:
    engine = make({"quoter": "5"})
    engine.submit("quoter", order("BUY", "0.001", "95000"))
    engine.submit("quoter", order("SELL", "0.001", "96000"))  # max(95, 96)/20, not the sum
    view = engine.account_view("quoter")
    assert view.order_im_money == 480_000_000  # 4.8 USDT
    assert view.available_balance == D("0.2")


def test_leverage_changes_the_margin_needed() -> None:
    engine = make({"a": "5"})
    engine.set_leverage("a", "BTCUSDT", 10)
    with pytest.raises(SandboxError) as info:
        engine.submit("a", order("BUY", "0.001", "95000"))  # 9.5 > 5
    assert info.value.code == -2019
    with pytest.raises(SandboxError) as bad:
        engine.set_leverage("a", "BTCUSDT", 126)
    assert bad.value.code == -4028


def test_reduce_only_rejected_when_it_would_not_reduce() -> None:
    engine = make({"a": "1000", "m": "1000"})
    with pytest.raises(SandboxError) as flat:
        engine.submit("a", order("SELL", "0.001", "95000", reduce_only=True))
    assert flat.value.code == -2022
    trade(engine, "m", "a", "BUY", "0.001", "95000")
    with pytest.raises(SandboxError) as same_side:
        engine.submit("a", order("BUY", "0.001", "95000", reduce_only=True))
    assert same_side.value.code == -2022


def test_reduce_only_never_flips_the_position() -> None:
    engine = make({"a": "1000", "m": "1000"})
    trade(engine, "m", "a", "BUY", "0.001", "95000")
    engine.submit("m", order("BUY", "0.005", "95000"))
    closed = engine.submit("a", order("SELL", "0.003", "95000", reduce_only=True, tif="IOC"))
    assert (closed.executed_qty, closed.status) == (D("0.001"), "EXPIRED")
    assert engine.account_view("a").positions[0].amt_steps == 0


def test_resting_reduce_only_expires_once_the_position_is_gone() -> None:
    engine = make({"a": "1000", "m": "1000", "t": "1000"})
    trade(engine, "m", "a", "BUY", "0.001", "95000")
    stale = engine.submit("a", order("SELL", "0.001", "96000", reduce_only=True))
    trade(engine, "m", "a", "SELL", "0.001", "95000")  # position closed elsewhere
    engine.submit("t", order("BUY", "0.001", "96000"))
    assert engine.query("a", "BTCUSDT", stale.order_id).status == "EXPIRED"
    assert engine.account_view("a").positions[0].amt_steps == 0


def test_margin_reserved_by_orders_is_released_on_cancel_and_fill() -> None:
    engine = make({"a": "100", "t": "100"})
    placed = engine.submit("a", order("BUY", "0.001", "95000"))
    assert engine.account_view("a").order_im_money == 475_000_000
    engine.cancel("a", "BTCUSDT", placed.order_id)
    assert engine.account_view("a").order_im_money == 0
    engine.submit("a", order("BUY", "0.002", "95000"))
    engine.submit("t", order("SELL", "0.001", "95000"))
    view = engine.account_view("a")
    assert view.order_im_money == 475_000_000  # the unfilled 0.001 only
    assert view.position_im_money == 475_000_000  # 0.001 long at mark 95000 / 20


def test_a_fee_multiplier_charges_both_fees_that_many_times() -> None:
    """The soak's accelerated life: `SandboxConfig.fee_multiplier` reaches the engine."""
    from rocky_bot.sandbox.app import SandboxExchange
    from rocky_bot.sandbox.config import SandboxConfig

    engine = SandboxExchange(SandboxConfig(fee_multiplier=D(168))).engine
    for name in ("a", "b"):
        engine.open_account(name)
        engine.credit(name, D(100))
    trade(engine, "a", "b", "BUY", "0.001", "95000")  # notional 95
    assert wallet(engine, "a") == D(100) - D("0.019") * 168  # 3.192
    assert wallet(engine, "b") == D(100) - D("0.0475") * 168  # 7.98
