"""The sandbox's REST side under hostile input (issue 11): Binance's code for each bad input,
never a 500, and the account's state unchanged by a rejected request.

One venue for the module (a real server on 127.0.0.1), one account with a resting order the
rejected requests must leave alone. Hand-picked cases are the ones that broke it; the
hypothesis test sends every endpoint, with every method, random mixes of hostile parameters,
signed with a valid key so they reach the handlers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio
from helpers import mint
from hostile import HOSTILE_VALUES, PARAMS, Venue, binance_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route
from waiting import wait_for

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.orders import OrderRequest
from rocky_bot.sandbox.signing import sign

pytestmark = pytest.mark.asyncio(loop_scope="module")

ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "0.001", "price": "90000"}  # fmt: skip
NO_LIMITS = dict(weight_limit_per_min=10**7, order_limit_per_10s=10**7, order_limit_per_min=10**8)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def venue() -> AsyncIterator[Venue]:
    exchange = SandboxExchange(SandboxConfig(port=0, seed=11, **NO_LIMITS))
    await exchange.start()
    try:
        key, secret = await mint(exchange, "hostile", 100_000)
        async with httpx.AsyncClient(base_url=exchange.base_url, timeout=10) as http:
            v = Venue(exchange, http, key, secret, "hostile")
            placed = await v.signed("POST", "/fapi/v1/order", ORDER)
            assert placed.status_code == 200, placed.text
            yield v
            # no crash, no task lost: it still answers, and its prices still move
            assert (await http.get("/fapi/v1/ping")).status_code == 200
            mid = exchange.prices.mid("BTCUSDT")
            assert await wait_for(lambda: exchange.prices.mid("BTCUSDT") != mid, 3, interval=0.01)
    finally:
        await exchange.stop()


def resting_id(v: Venue) -> int:
    """The account's resting BTC order (placed again if a request cancelled it for real)."""
    orders = v.engine.open_orders(v.name, "BTCUSDT")
    if not orders:
        request = OrderRequest("BTCUSDT", "BUY", "LIMIT", Decimal("0.001"), Decimal("90000"))
        return v.engine.submit(v.name, request).order_id
    return orders[0].order_id


def batch(*orders: dict[str, Any]) -> str:
    return json.dumps(list(orders))


# (method, path, params, in_body, code): each answered with `code`, nothing changed
CASES: list[tuple[str, str, dict[str, Any], bool, int]] = [
    ("POST", "/fapi/v1/order", {**ORDER, "quantity": "1E+999999"}, False, -1100),
    ("POST", "/fapi/v1/order", {**ORDER, "price": "1E+999999"}, True, -1100),
    ("POST", "/fapi/v1/order", {**ORDER, "quantity": "0.001" + "0" * 30 + "1"}, False, -1111),
    ("POST", "/fapi/v1/order", {**ORDER, "price": "90000." + "0" * 29 + "1"}, True, -1111),
    ("POST", "/fapi/v1/order", {**ORDER, "price": "9_0000"}, False, -1100),
    ("POST", "/fapi/v1/order", {**ORDER, "quantity": "０.００１"}, False, -1100),
    ("POST", "/fapi/v1/order", {**ORDER, "price": "٩٠٠٠٠"}, True, -1100),
    ("POST", "/fapi/v1/order", {**ORDER, "price": " 90000"}, False, -1100),
    ("POST", "/fapi/v1/order", {**ORDER, "price": "90000\n"}, False, -1100),
    ("POST", "/fapi/v1/order", {**ORDER, "price": "NaN"}, False, -1100),
    ("POST", "/fapi/v1/order", {**ORDER, "newClientOrderId": "rb-1\n"}, False, -4015),
    ("POST", "/fapi/v1/order", {**ORDER, "recvWindow": "5_000"}, False, -1100),
    ("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "2_0"}, True, -1100),
    ("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "1e400"}, False, -1100),
    ("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "1e400"}, False, -1100),
    ("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "١"}, False, -1100),
    ("GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT", "limit": " 5"}, False, -1100),
    ("POST", "/fapi/v1/countdownCancelAll", {"symbol": "BTCUSDT", "countdownTime": "9" * 30},
     False, -1100),
    ("POST", "/fapi/v1/batchOrders", {"batchOrders": "[" * 100_000}, True, -1130),
    ("POST", "/fapi/v1/batchOrders", {"batchOrders": '{"a":' * 50_000}, True, -1130),
    ("POST", "/fapi/v1/batchOrders", {"batchOrders": batch(*[ORDER] * 6)}, True, -1130),
    ("DELETE", "/fapi/v1/batchOrders", {"symbol": "BTCUSDT", "orderIdList": "[1e400]"},
     False, -1130),
    ("DELETE", "/fapi/v1/batchOrders", {"symbol": "BTCUSDT", "orderIdList": "[" * 100_000},
     True, -1130),
    ("DELETE", "/fapi/v1/batchOrders", {"symbol": "BTCUSDT", "orderIdList": "[true]"},
     False, -1130),
    ("DELETE", "/fapi/v1/batchOrders",
     {"symbol": "BTCUSDT", "origClientOrderIdList": '[{"a": 1}]'}, False, -1130),
    ("POST", "/fapi/v1/order", {f"p{i}": "1" for i in range(120)}, True, -1101),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "params", "in_body", "code"), CASES)
async def test_each_bad_input_gets_binances_code_and_changes_nothing(
    venue: Venue, method: str, path: str, params: dict[str, Any], in_body: bool, code: int
) -> None:
    before = venue.state()
    response = await venue.signed(method, path, params, in_body=in_body)
    assert binance_error(response)[0] == code, response.text[:300]
    assert 400 <= response.status_code < 500
    assert venue.state() == before


@pytest.mark.parametrize("field", ["quantity", "price"])
async def test_an_amendment_of_1e999999_is_1100_and_the_order_stays(venue: Venue, field: str):
    before = venue.state()
    amend = {"symbol": "BTCUSDT", "side": "BUY", "orderId": resting_id(venue),
             "quantity": "0.002", "price": "90000", field: "1E+999999"}  # fmt: skip
    assert binance_error(await venue.signed("PUT", "/fapi/v1/order", amend))[0] == -1100
    elements = {"batchOrders": batch({**amend, "orderId": str(amend["orderId"])})}
    reply = await venue.signed("PUT", "/fapi/v1/batchOrders", elements, in_body=True)
    assert reply.status_code == 200 and reply.json()[0]["code"] == -1100
    assert venue.state() == before


async def test_a_batch_with_one_overflowing_order_answers_per_element(venue: Venue) -> None:
    """[valid, overflow] once answered 500 after placing the first: now each element gets its
    own answer, in order, as on Binance, and only the valid one trades."""
    before = len(venue.engine.open_orders(venue.name))
    orders = batch(
        {**ORDER, "price": "90001"},
        {**ORDER, "quantity": "1E+999999"},
        {**ORDER, "price": 1e400},  # a JSON number: kept as written, then refused
        {**ORDER, "price": ["90000"]},
    )
    reply = await venue.signed("POST", "/fapi/v1/batchOrders", {"batchOrders": orders})
    assert reply.status_code == 200, reply.text
    placed, overflow, number, nested = reply.json()
    assert placed["status"] == "NEW" and placed["price"] == "90001.00"
    assert (overflow["code"], number["code"], nested["code"]) == (-1100, -1100, -1130)
    assert len(venue.engine.open_orders(venue.name)) == before + 1
    gone = await venue.signed(
        "DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    )
    assert gone.status_code == 200


async def test_a_non_ascii_signature_is_1022(venue: Venue) -> None:
    """Sent raw in the body, as UTF-8: it once reached `hmac.compare_digest` (a 500)."""
    payload = venue.signed_text(ORDER).rsplit("&signature=", 1)[0]
    before = venue.state()
    for signature in ("é" * 64, "ü" * 3, "\ufffd" * 64, "g" * 64):
        body = f"{payload}&signature={signature}".encode()
        response = await venue.http.post(
            "/fapi/v1/order", content=body, headers={"X-MBX-APIKEY": venue.key,
            "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert binance_error(response)[0] == -1022
    assert venue.state() == before


async def test_a_body_that_is_not_utf8_is_1100_once_the_key_is_known(venue: Venue) -> None:
    body = venue.signed_text(ORDER).encode() + b"&junk=\xff\xfe\xc3"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    before = venue.state()
    unknown = await venue.http.post("/fapi/v1/order", content=body, headers=headers)
    assert binance_error(unknown) == (-2014, "API-key format invalid.")
    known = await venue.http.post(
        "/fapi/v1/order", content=body, headers={**headers, "X-MBX-APIKEY": venue.key}
    )
    assert binance_error(known)[0] == -1100
    assert venue.state() == before


async def test_a_body_is_parsed_only_once_its_signature_is_good(venue: Venue) -> None:
    """Holding an API key is not enough to make the sandbox parse a body: 120 parameters
    signed with the wrong secret are -1022 (unparsed), with the right one -1101."""
    body = "&".join(f"p{i}=1" for i in range(120)) + f"&timestamp={venue.exchange.clock_ms()}"
    headers = {"X-MBX-APIKEY": venue.key, "Content-Type": "application/x-www-form-urlencoded"}
    wrong = await venue.http.post(
        "/fapi/v1/order", content=f"{body}&signature={'0' * 64}", headers=headers
    )
    assert binance_error(wrong)[0] == -1022
    right = await venue.http.post(
        "/fapi/v1/order", content=f"{body}&signature={sign(venue.secret, body)}", headers=headers
    )
    assert binance_error(right)[0] == -1101


async def test_a_timestamp_in_other_digits_is_1100(venue: Venue) -> None:
    for stamp in ("١٧٠٠٠٠٠٠٠٠٠٠٠", "1_700_000_000_000", " 1700000000000"):
        response = await venue.signed("GET", "/fapi/v2/balance", {}, timestamp=stamp)
        assert binance_error(response)[0] == -1100


async def test_open_orders_stop_at_max_num_orders_with_2025(venue: Venue) -> None:
    """exchangeInfo says MAX_NUM_ORDERS 200: the 201st is -2025 alone or in a batch."""
    info = (await venue.http.get("/fapi/v1/exchangeInfo")).json()
    (btc,) = [s for s in info["symbols"] if s["symbol"] == "BTCUSDT"]
    (limit,) = [f["limit"] for f in btc["filters"] if f["filterType"] == "MAX_NUM_ORDERS"]
    assert limit == 200
    for i in range(limit - len(venue.engine.open_orders(venue.name, "BTCUSDT"))):
        reply = await venue.signed("POST", "/fapi/v1/order", {**ORDER, "price": str(89000 + i)})
        assert reply.status_code == 200, reply.text
    before = venue.state()
    assert binance_error(await venue.signed("POST", "/fapi/v1/order", ORDER)) == (
        -2025, "Reach max open order limit."
    )  # fmt: skip
    reply = await venue.signed("POST", "/fapi/v1/batchOrders", {"batchOrders": batch(ORDER)})
    assert reply.json() == [{"code": -2025, "msg": "Reach max open order limit."}]
    assert venue.state() == before
    keep = resting_id(venue)
    for order in venue.engine.open_orders(venue.name, "BTCUSDT"):
        if order.order_id != keep:
            venue.engine.cancel(venue.name, "BTCUSDT", order.order_id)


# -- every endpoint, every method, hostile parameters -----------------------------------------

_value = st.sampled_from(HOSTILE_VALUES) | st.text(max_size=12)
#: Valid requests to start from, so one hostile value reaches the code behind the others.
_TEMPLATES = [
    {}, ORDER, {"symbol": "BTCUSDT"}, {**ORDER, "type": "MARKET", "timeInForce": ""},
    {"symbol": "BTCUSDT", "side": "BUY", "orderId": "<resting>", "quantity": "0.002",
     "price": "90000"},
    {"symbol": "BTCUSDT", "orderIdList": "[<resting>]"}, {"symbol": "BTCUSDT", "leverage": "5"},
    {"symbol": "BTCUSDT", "batchOrders": json.dumps([ORDER])},
]  # fmt: skip
_element = st.dictionaries(
    st.sampled_from([*ORDER, "orderId", "newClientOrderId"]),
    _value | st.floats() | st.integers() | st.lists(st.integers(), max_size=2) | st.none(),
    max_size=3,
).map(lambda changes: {**ORDER, **changes})
_batch = st.lists(_element, min_size=1, max_size=6).map(json.dumps)


@st.composite
def _params(draw: st.DrawFn) -> dict[str, str]:
    """A valid template with a few of its own parameters (or others) made hostile."""
    params = dict(draw(st.sampled_from(_TEMPLATES)))
    names = st.sampled_from(sorted(params)) if params else st.sampled_from(PARAMS)
    for name in draw(st.lists(names | st.sampled_from(PARAMS) | st.text(max_size=6), max_size=3)):
        params[name] = (
            draw(_batch) if name == "batchOrders" and draw(st.booleans()) else draw(_value)
        )
    return params


def _paths() -> list[str]:
    """Every REST path the sandbox serves (not /admin/v1/faults: its faults are applied on
    purpose, hand-picked below)."""
    app = SandboxExchange(SandboxConfig(port=0)).app
    paths = [r.path for r in app.routes if type(r) is Route]
    return [p.replace("{v}", "2").replace("{name}", "app.js") for p in paths
            if p != "/admin/v1/faults"]  # fmt: skip


_REQUESTS = dict(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    params=_params(),
    in_body=st.booleans(),
    how=st.sampled_from(["signed", "signed", "signed", "unsigned", "bad_key"]),
)
_FUZZ = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("path", _paths())
@settings(max_examples=12, **_FUZZ)
@given(**_REQUESTS)
async def test_no_endpoint_answers_500_and_rejections_change_nothing(
    venue: Venue, path: str, method: str, params: dict[str, str], in_body: bool, how: str
) -> None:
    await _check_one(venue, path, method, params, in_body, how)


AMEND = {"symbol": "BTCUSDT", "side": "BUY", "orderId": "<resting>", "quantity": "0.002",
         "price": "90000"}  # fmt: skip
#: (method, a valid request) per trading path: the fuzz below makes one or two values hostile.
_VALID = {
    "/fapi/v1/order": [("POST", ORDER), ("POST", {**ORDER, "type": "MARKET", "price": ""}),
                       ("PUT", AMEND), ("GET", {"symbol": "BTCUSDT", "orderId": "<resting>"}),
                       ("DELETE", {"symbol": "BTCUSDT", "origClientOrderId": "x"})],
    "/fapi/v1/batchOrders": [("POST", {"batchOrders": ORDER}), ("PUT", {"batchOrders": AMEND}),
                             ("DELETE", {"symbol": "BTCUSDT", "orderIdList": "[<resting>]"})],
}  # fmt: skip


@st.composite
def _trading(draw: st.DrawFn, path: str) -> tuple[str, dict[str, str]]:
    method, valid = draw(st.sampled_from(_VALID[path]))
    if isinstance(valid.get("batchOrders"), dict):  # a batch of that element, some hostile
        element = valid["batchOrders"]
        hostile = st.dictionaries(
            st.sampled_from(sorted(element)),
            _value | st.floats() | st.integers() | st.lists(st.integers(), max_size=2),
            min_size=1, max_size=2,
        ).map(lambda changes: {**element, **changes})  # fmt: skip
        items = draw(st.lists(st.just(element) | hostile, min_size=1, max_size=5))
        return method, {"batchOrders": json.dumps(items)}
    params = dict(valid)
    for name in draw(st.lists(st.sampled_from(sorted(params)), min_size=1, max_size=2)):
        params[name] = draw(st.sampled_from(HOSTILE_VALUES))
    return method, params


@pytest.mark.parametrize("path", sorted(_VALID))
@settings(max_examples=60, **_FUZZ)
@given(data=st.data(), in_body=st.booleans())
async def test_order_endpoints_most_of_all(
    venue: Venue, path: str, data: st.DataObject, in_body: bool
) -> None:
    method, params = data.draw(_trading(path), label="request")
    await _check_one(venue, path, method, params, in_body, "signed")


URL_ROOM = 60_000  # under httpx's MAX_URL_LENGTH (65,536), with room for the signature


async def _check_one(
    venue: Venue, path: str, method: str, params: dict[str, str], in_body: bool, how: str
) -> None:
    resting = str(resting_id(venue))
    params = {k: v.replace("<resting>", resting) for k, v in params.items()}
    before = venue.state()
    # A URL past httpx's 64 KiB is refused before it is sent (a batch of five deep-nested
    # values can be one): such a request can only reach the exchange as a body.
    in_body = in_body or len(urlencode(params)) > URL_ROOM
    if how == "signed":
        response = await venue.signed(method, path, params, in_body=in_body and method != "GET")
    else:
        headers = {"X-MBX-APIKEY": venue.key if how == "unsigned" else "nope"}
        response = await venue.http.request(method, path, params=params, headers=headers)
    assert response.status_code < 500, (method, path, params, response.text[:300])
    if response.status_code >= 400 and response.headers["content-type"].startswith("application"):
        binance_error(response)
        assert venue.state() == before, (method, path, params)
    elif path.endswith("countdownCancelAll"):  # armed for real: disarm before it fires
        for symbol in venue.engine.grids:
            venue.engine.countdown_cancel_all(venue.name, symbol, 0)
