"""Fuzz: random and mutated Binance payloads → a model or MalformedReplyError, nothing else."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rocky_bot.exchange import parse, user_events
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import ApiError, MalformedReplyError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import (
    AccountUpdate,
    Balance,
    Order,
    OrderUpdate,
    Position,
    Side,
    SymbolRules,
)

from .conftest import BASE, KEY, SECRET, order_json
from .test_parse import (
    ACCOUNT_UPDATE,
    BALANCE_V1,
    BALANCE_V2,
    EXCHANGE_INFO,
    ORDER_TRADE_UPDATE,
    POSITION_V2,
    POSITION_V3,
)

TRICKY = ["", "NaN", "sNaN", "-Infinity", "1e999999", "1_000", " 1", "١٢٣", "0x10", "-0", "1e-7",
          "BUY", "FILLED", "true", "99999999999999999999", "PRICE_FILTER", "LOT_SIZE",
          "0e999", "1e-9999999999", "9e99", "１", "1\n", "1." + "1" * 80, "k" * 5000,
          2**64, -(2**70), Decimal("0E+999"), Decimal("1E-999")]  # fmt: skip
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(TRICKY)
)
json_values = st.recursive(
    leaves,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=12,
)


def _is_list_of(kind: type) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(isinstance(x, kind) for x in v)


# parser, a valid sample, and what a successful parse must return
CASES: list[tuple[Callable[[Any], Any], Any, Callable[[Any], bool]]] = [
    (parse.parse_order, order_json(), lambda v: isinstance(v, Order)),
    (parse.parse_open_orders, [order_json(), order_json(orderId=2)], _is_list_of(Order)),
    (parse.parse_position_risk, [POSITION_V2, POSITION_V3], _is_list_of(Position)),
    (parse.parse_balance, [BALANCE_V1, BALANCE_V2], _is_list_of(Balance)),
    (
        parse.parse_exchange_info,
        EXCHANGE_INFO,
        lambda v: isinstance(v, dict) and all(isinstance(r, SymbolRules) for r in v.values()),
    ),
    (parse.parse_server_time, {"serverTime": 1}, lambda v: isinstance(v, int)),
    (parse.parse_listen_key, {"listenKey": "k"}, lambda v: isinstance(v, str) and v),
    (parse.parse_leverage, {"leverage": 10}, lambda v: isinstance(v, int)),
    (
        user_events.parse_user_event,
        ORDER_TRADE_UPDATE,
        lambda v: v is None or isinstance(v, (OrderUpdate, AccountUpdate)),
    ),
    (
        user_events.parse_user_event,
        ACCOUNT_UPDATE,
        lambda v: v is None or isinstance(v, (OrderUpdate, AccountUpdate)),
    ),
]


def mutate(value: Any, data: st.DataObject) -> Any:
    """Replace, delete or descend into one spot of a JSON value."""
    if isinstance(value, dict) and value and data.draw(st.integers(0, 4)) > 0:
        key = data.draw(st.sampled_from(sorted(value)))
        action = data.draw(st.sampled_from(["delete", "replace", "descend"]))
        new = dict(value)
        if action == "delete":
            del new[key]
        else:
            new[key] = data.draw(json_values) if action == "replace" else mutate(value[key], data)
        return new
    if isinstance(value, list) and value and data.draw(st.integers(0, 4)) > 0:
        index = data.draw(st.integers(0, len(value) - 1))
        new_list = list(value)
        new_list[index] = mutate(value[index], data)
        return new_list
    return data.draw(json_values)


def check(parser: Callable[[Any], Any], payload: Any, valid: Callable[[Any], bool]) -> None:
    try:
        result = parser(payload)
    except MalformedReplyError as error:
        assert error.endpoint and error.problem
        return
    assert valid(result), result
    _exercise(result)


def _exercise(result: Any) -> None:
    """Parsed decimals must be usable: arithmetic on them never traps."""
    for item in result.values() if isinstance(result, dict) else (
        result if isinstance(result, list) else [result]
    ):  # fmt: skip
        if isinstance(item, Order):
            assert isinstance(item.remaining_qty, Decimal) and item.remaining_qty >= 0
        elif isinstance(item, Balance):  # may be below zero: read, not refused (parse._balance)
            assert (item.wallet - item.available).is_finite()
        elif isinstance(item, OrderUpdate):
            assert item.last_fill_qty <= item.executed_qty <= item.orig_qty
        elif isinstance(item, Position):
            assert isinstance(item.notional, Decimal)
        elif isinstance(item, SymbolRules):
            item.round_price(Decimal("123.456"), Side.BUY)
            item.round_qty(Decimal("1.2345"))


#: What a proxy in front of the exchange answers when the backend is away: HTML, or nothing.
PROXY_PAGES = [
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>",
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body></body></html>",
    b"",
]

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(case=st.sampled_from(CASES), data=st.data())
def test_mutated_payloads_parse_or_fail_cleanly(case: Any, data: st.DataObject) -> None:
    parser, sample, valid = case
    payload = copy.deepcopy(sample)
    for _ in range(data.draw(st.integers(1, 3))):
        payload = mutate(payload, data)
    check(parser, payload, valid)


@FUZZ
@given(case=st.sampled_from(CASES), payload=json_values)
def test_random_json_parses_or_fails_cleanly(case: Any, payload: Any) -> None:
    parser, _, valid = case
    check(parser, payload, valid)


@settings(max_examples=60, deadline=None)
@given(
    status=st.sampled_from([200, 400, 404, 418, 429, 500, 502, 503, 504]),
    content=st.binary(max_size=40)
    | json_values.map(lambda v: repr(v).encode())
    | st.sampled_from(PROXY_PAGES),
)
def test_any_reply_bytes_become_a_result_or_the_error_tree(status: int, content: bytes) -> None:
    """Through the real client: nothing but a balance list or an ExchangeError escapes."""

    async def run() -> None:
        router = respx.Router(base_url=BASE)
        router.get("/fapi/v1/balance").respond(status, content=content)

        async def no_sleep(_: float) -> None:
            return None

        async with ExchangeClient(
            BASE, KEY, SECRET, account="a", governor=WeightGovernor(),
            transport=httpx.MockTransport(router.async_handler), sleep=no_sleep,
        ) as client:  # fmt: skip
            try:
                result = await client.balance()
            except (ApiError, MalformedReplyError):
                return
            assert isinstance(result, list)

    asyncio.run(run())
