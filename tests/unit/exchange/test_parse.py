"""Parsers: Binance's documented shapes → models; every defect → MalformedReplyError naming it."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from rocky_bot.exchange import parse, user_events
from rocky_bot.exchange.errors import MalformedReplyError
from rocky_bot.exchange.models import AccountUpdate, OrderStatus, OrderUpdate, Side

from .conftest import order_json

EXCHANGE_INFO: dict[str, Any] = {
    "timezone": "UTC",
    "serverTime": 1565613908500,
    "rateLimits": [],
    "symbols": [
        {
            "symbol": "BLZUSDT",
            "status": "TRADING",
            "pricePrecision": 5,
            "filters": [
                {"filterType": "PRICE_FILTER", "maxPrice": "300", "minPrice": "0.0001",
                 "tickSize": "0.0001"},
                {"filterType": "LOT_SIZE", "maxQty": "10000000", "minQty": "1", "stepSize": "1"},
                {"filterType": "MARKET_LOT_SIZE", "maxQty": "590119", "minQty": "1",
                 "stepSize": "1"},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": "5.0"},
                {"filterType": "PERCENT_PRICE", "multiplierUp": "1.1500",
                 "multiplierDown": "0.8500", "multiplierDecimal": "4"},
            ],
        }
    ],
}  # fmt: skip

POSITION_V2 = {
    "entryPrice": "0.00000", "breakEvenPrice": "0.0", "marginType": "isolated",
    "isAutoAddMargin": "false", "isolatedMargin": "0.00000000", "leverage": "10",
    "liquidationPrice": "0", "markPrice": "6679.50671178", "maxNotionalValue": "20000000",
    "positionAmt": "-1.000", "notional": "0", "isolatedWallet": "0", "symbol": "BTCUSDT",
    "unRealizedProfit": "0.00000000", "positionSide": "BOTH", "updateTime": 0,
}  # fmt: skip
POSITION_V3 = {
    "symbol": "ETHUSDT", "positionSide": "BOTH", "positionAmt": "0.020", "entryPrice": "3000.5",
    "breakEvenPrice": "3001", "markPrice": "3010.25", "unRealizedProfit": "0.19",
    "liquidationPrice": "0", "isolatedMargin": "0", "notional": "60.2", "marginAsset": "USDT",
    "isolatedWallet": "0", "initialMargin": "6.02", "maintMargin": "0.3",
    "positionInitialMargin": "6.02", "openOrderInitialMargin": "0", "adl": 1,
    "bidNotional": "0", "askNotional": "0", "updateTime": 1720000000000,
}  # fmt: skip
BALANCE_V2 = {
    "accountAlias": "SgsR", "asset": "USDT", "balance": "122607.35137903",
    "crossWalletBalance": "23.72469206", "crossUnPnl": "0.00000000",
    "availableBalance": "23.72469206", "maxWithdrawAmount": "23.72469206",
    "marginAvailable": True, "updateTime": 1617939110373,
}  # fmt: skip
BALANCE_V1 = {"accountAlias": "x", "asset": "USDC", "balance": "500.0",
              "withdrawAvailable": "450.5", "updateTime": 0}  # fmt: skip


def test_exchange_info_filters_become_symbol_rules() -> None:
    rules = parse.parse_exchange_info(EXCHANGE_INFO)["BLZUSDT"]
    assert (rules.tick_size, rules.step_size, rules.min_qty, rules.min_notional) == (
        D("0.0001"), D("1"), D("1"), D("5.0"),
    )  # fmt: skip


def test_exchange_info_without_min_notional_means_zero() -> None:
    info = {"symbols": [{"symbol": "X", "filters": EXCHANGE_INFO["symbols"][0]["filters"][:2]}]}
    assert parse.parse_exchange_info(info)["X"].min_notional == 0


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda s: s["filters"].pop(0), "symbols[0].filters has no PRICE_FILTER"),
        (lambda s: s["filters"][0].update(tickSize="0"), "expected > 0"),
        (lambda s: s["filters"][1].update(stepSize=None), "symbols[0].filters[1].stepSize is null"),
        (lambda s: s.pop("symbol"), "symbols[0].symbol is missing"),
    ],
)
def test_exchange_info_defects_name_the_field(mutate: Any, problem: str) -> None:
    import copy

    info = copy.deepcopy(EXCHANGE_INFO)
    mutate(info["symbols"][0])
    with pytest.raises(MalformedReplyError) as error:
        parse.parse_exchange_info(info)
    assert problem in error.value.problem
    assert error.value.endpoint == "/fapi/v1/exchangeInfo"


def test_order_object_with_extra_fields() -> None:
    order = parse.parse_order(order_json(status="PARTIALLY_FILLED", executedQty="0.0004",
                                         newField={"x": 1}))  # fmt: skip
    assert order.side is Side.BUY and order.status is OrderStatus.PARTIALLY_FILLED
    assert order.remaining_qty == D("0.0006") and order.is_live
    assert order.update_time_ms == 1_700_000_000_123


def test_open_orders_use_time_when_update_time_absent() -> None:
    raw = order_json(time=55)
    del raw["updateTime"]
    (order,) = parse.parse_open_orders([raw])
    assert order.update_time_ms == 55


def test_order_reduce_only_as_string() -> None:
    assert parse.parse_order(order_json(reduceOnly="true")).reduce_only is True


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"orderId": "abc"}, "field orderId is the string 'abc', expected an integer"),
        ({"orderId": True}, "field orderId is a boolean"),
        ({"side": "LONG"}, "field side is 'LONG', expected BUY or SELL"),
        ({"status": "ALIVE"}, "field status is 'ALIVE', not an order status"),
        ({"price": "NaN"}, "field price is the string 'NaN', expected a finite decimal"),
        ({"price": "1e999"}, "expected a finite decimal"),
        ({"origQty": "-1"}, "field origQty is -1, expected >= 0"),
        ({"executedQty": [1]}, "field executedQty is a list"),
        ({"symbol": None}, "field symbol is null"),
    ],
)
def test_order_defects_name_the_field(override: dict[str, Any], problem: str) -> None:
    with pytest.raises(MalformedReplyError) as error:
        parse.parse_order(order_json(**override), "/fapi/v1/order")
    assert problem in str(error.value)


def test_non_object_replies_are_malformed() -> None:
    with pytest.raises(MalformedReplyError, match="reply is a list, not an object"):
        parse.parse_order([])
    with pytest.raises(MalformedReplyError, match=r"\[1\] is the string"):
        parse.parse_open_orders([order_json(), "x"])
    with pytest.raises(MalformedReplyError, match="reply is an object, not a list"):
        parse.parse_position_risk({})


def test_position_risk_v2_and_v3_shapes_including_shorts() -> None:
    short, long_ = parse.parse_position_risk([POSITION_V2, POSITION_V3])
    assert short.symbol == "BTCUSDT" and short.amount == D("-1.000")
    assert short.mark_price == D("6679.50671178") and short.notional < 0
    assert long_.amount == D("0.020") and long_.entry_price == D("3000.5")


def test_balance_v1_v2_v3_and_account_shapes() -> None:
    (v1,) = parse.parse_balance([BALANCE_V1])
    (v2,) = parse.parse_balance([BALANCE_V2], "/fapi/v2/balance")
    (acct,) = parse.parse_balance(
        {"assets": [{"asset": "USDT", "walletBalance": "10", "availableBalance": "9"}]}
    )
    assert (v1.asset, v1.wallet, v1.available) == ("USDC", D("500.0"), D("450.5"))
    assert (v2.wallet, v2.available) == (D("122607.35137903"), D("23.72469206"))
    assert (acct.wallet, acct.available) == (D("10"), D("9"))


def test_account_v2_and_v3_give_wallet_and_positions_in_one_reply() -> None:
    reply = {
        "assets": [{"asset": "USDC", "walletBalance": "-3.5", "availableBalance": "0"}],
        "positions": [
            {"symbol": "BTCUSDT", "positionAmt": "-0.002", "entryPrice": "95000.1"},  # v2
            {"symbol": "ETHUSDT", "positionAmt": "0.05"},  # v3: no entry price
        ],
    }
    (wallet,), (btc, eth) = parse.parse_account(reply)
    assert (wallet.asset, wallet.wallet) == ("USDC", D("-3.5"))  # below zero stays readable
    assert (btc.amount, btc.entry_price, btc.mark_price) == (D("-0.002"), D("95000.1"),
                                                              D("95000.1"))  # fmt: skip
    assert (eth.amount, eth.entry_price) == (D("0.05"), 0)
    with pytest.raises(MalformedReplyError, match=r"positions\[0\].positionAmt is missing"):
        parse.parse_account({"assets": [], "positions": [{"symbol": "BTCUSDT"}]})


def test_balance_missing_available_is_named() -> None:
    with pytest.raises(MalformedReplyError, match=r"\[0\].availableBalance is missing"):
        parse.parse_balance([{"asset": "USDT", "balance": "1"}])


def test_json_numbers_are_accepted_exactly() -> None:
    order = parse.parse_order(order_json(price=D("95000.10"), origQty=1, executedQty=0.5))
    assert order.price == D("95000.10") and order.orig_qty == 1 and order.executed_qty == D("0.5")


def test_small_replies() -> None:
    assert parse.parse_server_time({"serverTime": 1499827319559}) == 1499827319559
    assert parse.parse_listen_key({"listenKey": "pqia91ma"}) == "pqia91ma"
    assert parse.parse_leverage({"leverage": 21, "symbol": "BTCUSDT"}) == 21
    with pytest.raises(MalformedReplyError, match="listenKey is empty"):
        parse.parse_listen_key({"listenKey": ""})
    with pytest.raises(MalformedReplyError, match="serverTime is missing"):
        parse.parse_server_time({"time": 1})


ORDER_TRADE_UPDATE = {
    "e": "ORDER_TRADE_UPDATE", "E": 1568879465651, "T": 1568879465650,
    "o": {"s": "BTCUSDT", "c": "rb1-abc", "S": "SELL", "o": "LIMIT", "f": "GTC", "q": "0.001",
          "p": "95010.5", "ap": "95010.5", "sp": "0", "x": "TRADE", "X": "PARTIALLY_FILLED",
          "i": 8886774, "l": "0.0004", "z": "0.0004", "L": "95010.5", "N": "USDT", "n": "0.01",
          "T": 1568879465650, "t": 5, "b": "0", "a": "0", "m": True, "R": False,
          "wt": "CONTRACT_PRICE", "ot": "LIMIT", "ps": "BOTH", "cp": False, "rp": "0",
          "pP": False, "si": 0, "ss": 0, "V": "NONE", "pm": "NONE", "gtd": 0},
}  # fmt: skip
ACCOUNT_UPDATE = {
    "e": "ACCOUNT_UPDATE", "E": 1564745798939, "T": 1564745798938,
    "a": {"m": "ORDER",
          "B": [{"a": "USDT", "wb": "122624.12345678", "cw": "100.12345678", "bc": "50.1"}],
          "P": [{"s": "BTCUSDT", "pa": "-0.002", "ep": "95000.0", "bep": "95001", "cr": "200",
                 "up": "-0.1", "mt": "cross", "iw": "0", "ps": "BOTH"}]},
}  # fmt: skip


def test_order_trade_update_event() -> None:
    update = user_events.parse_user_event(ORDER_TRADE_UPDATE)
    assert isinstance(update, OrderUpdate)
    assert (update.order_id, update.client_order_id, update.side) == (8886774, "rb1-abc", Side.SELL)
    assert update.exec_type == "TRADE" and update.status is OrderStatus.PARTIALLY_FILLED
    assert update.last_fill_qty == D("0.0004") and update.last_fill_price == D("95010.5")
    assert update.executed_qty == D("0.0004") and update.event_time_ms == 1568879465651


def test_account_update_event_and_combined_wrapper() -> None:
    update = user_events.parse_user_event({"stream": "lk", "data": ACCOUNT_UPDATE})
    assert isinstance(update, AccountUpdate)
    (balance,) = update.balances
    (position,) = update.positions
    assert balance.asset == "USDT" and balance.wallet == D("122624.12345678")
    assert position.amount == D("-0.002") and position.entry_price == D("95000.0")


def test_other_events_are_ignored_but_broken_ones_are_not() -> None:
    assert user_events.parse_user_event({"e": "listenKeyExpired", "E": 1}) is None
    assert user_events.parse_user_event({"e": "MARGIN_CALL", "E": 1}) is None
    broken = {**ORDER_TRADE_UPDATE, "o": {**ORDER_TRADE_UPDATE["o"], "i": "x"}}
    with pytest.raises(MalformedReplyError, match=r"field o\.i "):
        user_events.parse_user_event(broken)
    with pytest.raises(MalformedReplyError, match="user data stream"):
        user_events.parse_user_event("not an event")


def _with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `base` with `path` ("o.z", "a.B.0.wb") set to `value`."""
    import copy

    doc = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return doc


MB = "k" * (1 << 20)
HOSTILE_REPLIES = [
    # (parser, reply, the field the complaint must name)
    (parse.parse_order, order_json(origQty="0.001", executedQty="0.002"), "executedQty"),
    (parse.parse_order, order_json(price="0e999"), "price"),
    (parse.parse_order, order_json(price="9e999999"), "price"),
    (parse.parse_order, order_json(price="1e-9999999999"), "price"),
    (parse.parse_order, order_json(origQty="0." + "1" * 60), "origQty"),
    (parse.parse_order, order_json(price="95000.1\n"), "price"),
    (parse.parse_order, order_json(origQty="1_0"), "origQty"),
    (parse.parse_order, order_json(origQty="１"), "origQty"),
    (parse.parse_order, order_json(price=" 95000"), "price"),
    (parse.parse_order, order_json(orderId=2**64), "orderId"),
    (parse.parse_order, order_json(orderId="١٢"), "orderId"),
    (parse.parse_order, order_json(clientOrderId=MB), "clientOrderId"),
    (parse.parse_order, order_json(symbol=MB), "symbol"),
    (parse.parse_open_orders, [order_json(), order_json(executedQty="1")], "[1].executedQty"),
    (parse.parse_balance, [{**BALANCE_V2, "balance": "1e400"}], "[0].balance"),
    (parse.parse_balance, {"assets": [{"asset": "USDT", "walletBalance": "NaN",
                                       "availableBalance": "1"}]}, "assets[0].walletBalance"),
    (parse.parse_position_risk, [{**POSITION_V2, "markPrice": "-1"}], "[0].markPrice"),
    (parse.parse_position_risk, [{**POSITION_V3, "positionAmt": "1e400"}], "[0].positionAmt"),
    (parse.parse_listen_key, {"listenKey": MB}, "listenKey"),
    (parse.parse_listen_key, {"listenKey": "../../admin"}, "listenKey"),
    (parse.parse_listen_key, {"listenKey": "a b"}, "listenKey"),
    (parse.parse_leverage, {"leverage": 0}, "leverage"),
    (parse.parse_leverage, {"leverage": 10**6}, "leverage"),
    (parse.parse_server_time, {"serverTime": -1}, "serverTime"),
    (parse.parse_exchange_info, _with(EXCHANGE_INFO, "symbols.0.filters.0.tickSize", "1e-99"),
     "symbols[0].filters[0].tickSize"),
    (parse.parse_exchange_info, _with(EXCHANGE_INFO, "symbols.0.filters.0.maxPrice", "-1"),
     "symbols[0].filters[0].maxPrice"),
    (user_events.parse_user_event, _with(ORDER_TRADE_UPDATE, "o.z", "0.002"), "o.z"),
    (user_events.parse_user_event, _with(ORDER_TRADE_UPDATE, "o.l", "0.0005"), "o.l"),
    (user_events.parse_user_event, _with(ORDER_TRADE_UPDATE, "o.p", "NaN"), "o.p"),
    (user_events.parse_user_event, _with(ACCOUNT_UPDATE, "a.B.0.wb", "1e400"), "a.B[0].wb"),
    (user_events.parse_user_event, _with(ACCOUNT_UPDATE, "a.B.0.cw", "0e999"), "a.B[0].cw"),
    (user_events.parse_user_event, _with(ACCOUNT_UPDATE, "a.P.0.pa", "1e-999"), "a.P[0].pa"),
]  # fmt: skip


@pytest.mark.parametrize(("parser", "reply", "field"), HOSTILE_REPLIES)
def test_hostile_replies_are_malformed_naming_the_field(parser: Any, reply: Any, field: str):
    """Values no exchange could send are refused where they come in, by name, and the
    complaint stays short whatever the value's size (it ends up in a log line)."""
    with pytest.raises(MalformedReplyError) as error:
        parser(reply)
    assert f"field {field} " in error.value.problem
    assert len(str(error.value)) < 300


def test_hostile_values_next_to_them_still_parse() -> None:
    """The limits leave every real reply alone: a full fill, a zero wallet, Binance's key."""
    order = parse.parse_order(order_json(origQty="0.001", executedQty="0.001", status="FILLED"))
    assert order.remaining_qty == 0
    (zero,) = parse.parse_balance([{**BALANCE_V2, "balance": "0", "availableBalance": "-3.5"}])
    assert zero.wallet == 0 and zero.available == D("-3.5")  # available may go below zero
    # and so may the wallet, after fees past an empty one: `rocky-bot fund` must read it
    (owed,) = parse.parse_balance([{**BALANCE_V2, "balance": "-38.4272995"}])
    assert owed.wallet == D("-38.4272995")
    key = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
    assert parse.parse_listen_key({"listenKey": key}) == key
    rules = parse.parse_exchange_info(EXCHANGE_INFO)["BLZUSDT"]
    assert (rules.min_price, rules.max_price) == (D("0.0001"), D("300"))
    no_max = _with(EXCHANGE_INFO, "symbols.0.filters.0.maxPrice", "0")
    assert parse.parse_exchange_info(no_max)["BLZUSDT"].max_price is None
