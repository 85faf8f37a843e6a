"""Orders over respx: parameters, typed replies, and never doubling an order on unknown status."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from rocky_bot.exchange.capabilities import Support
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import RejectedError, TransportError, UnknownStatusError
from rocky_bot.exchange.models import Order, OrderStatus, Side
from rocky_bot.exchange.paths import ApiPaths

from .conftest import D, api_error, order_json

ORDER = "/fapi/v1/order"


def body(request: httpx.Request) -> dict[str, str]:
    """An order request's parameters: all in the query string, nothing in a body."""
    assert request.content == b""
    return dict(parse_qsl(request.url.query.decode()))


async def place(client: ExchangeClient, **kw: object) -> Order:
    args: dict[str, object] = {
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "qty": D("0.001"),
        "price": D("95000.10"),
        "client_order_id": "rb1-abc",
    }
    args.update(kw)
    return await client.place_order(**args)  # type: ignore[arg-type]


async def test_place_limit_order_sends_plain_strings_and_returns_the_order(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.post(ORDER).respond(json=order_json())
    order = await place(client, qty=D("1.0E-3"), price=D("9.50001E+4"), reduce_only=True)
    sent = body(route.calls.last.request)
    assert sent["quantity"] == "0.0010" and sent["price"] == "95000.1"
    assert sent["type"] == "LIMIT" and sent["timeInForce"] == "GTC" and sent["side"] == "BUY"
    assert sent["newClientOrderId"] == "rb1-abc" and sent["reduceOnly"] == "true"
    assert order.order_id == 4242 and order.status is OrderStatus.NEW
    assert order.price == D("95000.10") and order.orig_qty == D("0.001")


async def test_market_order_has_no_price_nor_time_in_force(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.post(ORDER).respond(json=order_json(type="MARKET", price="0"))
    await place(client, price=None, order_type="MARKET")
    sent = body(route.calls.last.request)
    assert "price" not in sent and "timeInForce" not in sent and "reduceOnly" not in sent


async def test_a_definite_rejection_is_raised_without_lookup(
    client: ExchangeClient, router: respx.Router
) -> None:
    post = router.post(ORDER).mock(return_value=api_error(-2019, "Margin is insufficient."))
    get = router.get(ORDER).respond(json=order_json())
    with pytest.raises(RejectedError) as info:
        await place(client)
    assert info.value.is_margin  # type: ignore[attr-defined]
    assert post.call_count == 1 and get.call_count == 0


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.Response(503, json={"code": -1000, "msg": "Unknown error, please check later."}),
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(400, json={"code": -1007, "msg": "Timeout waiting for response."}),
        httpx.Response(500, json={"code": -1006, "msg": "Unexpected response."}),
        httpx.Response(200, text="<html>accepted?</html>"),
    ],
)
async def test_unknown_status_is_looked_up_and_found_order_returned(
    client: ExchangeClient, router: respx.Router, failure: object
) -> None:
    post = router.post(ORDER).mock(side_effect=[failure])
    get = router.get(ORDER).respond(json=order_json(status="FILLED", executedQty="0.001"))
    order = await place(client)
    assert order.status is OrderStatus.FILLED
    assert post.call_count == 1 and get.call_count == 1
    assert dict(get.calls.last.request.url.params)["origClientOrderId"] == "rb1-abc"


async def test_not_found_after_unknown_is_resent_once_with_the_same_id(
    client: ExchangeClient, router: respx.Router
) -> None:
    post = router.post(ORDER).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=order_json())]
    )
    router.get(ORDER).mock(return_value=api_error(-2013, "Order does not exist."))
    order = await place(client)
    assert order.order_id == 4242 and post.call_count == 2
    ids = [body(call.request)["newClientOrderId"] for call in post.calls]
    assert ids == ["rb1-abc", "rb1-abc"]


async def test_still_unknown_after_one_resend_raises_unknown(
    client: ExchangeClient, router: respx.Router
) -> None:
    post = router.post(ORDER).mock(side_effect=httpx.ReadTimeout("slow"))
    get = router.get(ORDER).mock(return_value=api_error(-2013, "Order does not exist."))
    with pytest.raises(UnknownStatusError):
        await place(client)
    assert post.call_count == 2 and get.call_count == 2


async def test_resend_refused_as_duplicate_returns_the_late_first_order(
    client: ExchangeClient, router: respx.Router
) -> None:
    router.post(ORDER).mock(
        side_effect=[httpx.ReadTimeout("slow"), api_error(-4116, "ClientOrderId is duplicated.")]
    )
    router.get(ORDER).mock(
        side_effect=[
            api_error(-2013, "Order does not exist."),
            httpx.Response(200, json=order_json()),
        ]
    )
    assert (await place(client)).order_id == 4242


async def test_failed_lookup_never_resends(client: ExchangeClient, router: respx.Router) -> None:
    post = router.post(ORDER).mock(side_effect=httpx.ReadTimeout("slow"))
    router.get(ORDER).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(UnknownStatusError):
        await place(client)
    assert post.call_count == 1


async def test_order_that_never_left_is_a_plain_transport_error(
    client: ExchangeClient, router: respx.Router
) -> None:
    post = router.post(ORDER).mock(side_effect=httpx.ConnectError("refused"))
    get = router.get(ORDER).respond(json=order_json())
    with pytest.raises(TransportError):
        await place(client)
    assert post.call_count == 1 and get.call_count == 0


async def test_ioc_refused_as_unsupported_marks_ioc_false(
    client: ExchangeClient, router: respx.Router
) -> None:
    post = router.post(ORDER).mock(
        side_effect=[
            api_error(-1115, "Invalid timeInForce."),
            httpx.Response(200, json=order_json()),
        ]
    )
    with pytest.raises(RejectedError):
        await place(client, time_in_force="IOC")
    assert client.capabilities.ioc is Support.MISSING
    with pytest.raises(RejectedError):
        await place(client, time_in_force="IOC")  # refused locally, no request
    await place(client)  # GTC still works
    assert post.call_count == 2


async def test_ioc_accepted_marks_ioc_true(client: ExchangeClient, router: respx.Router) -> None:
    router.post(ORDER).respond(json=order_json(timeInForce="IOC", status="EXPIRED"))
    order = await place(client, time_in_force="IOC")
    assert order.status is OrderStatus.EXPIRED and client.capabilities.ioc is Support.PRESENT


async def test_get_order_by_id_and_missing_order(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.get(ORDER).mock(
        side_effect=[
            httpx.Response(200, json=order_json()),
            api_error(-2013, "Order does not exist."),
        ]
    )
    assert (await client.get_order("BTCUSDT", order_id=4242)).order_id == 4242  # type: ignore[union-attr]
    assert await client.get_order("BTCUSDT", client_order_id="gone") is None
    assert dict(route.calls[0].request.url.params)["orderId"] == "4242"


@pytest.mark.parametrize("code", [-2011, -2013])
async def test_cancel_of_a_gone_order_returns_none(
    client: ExchangeClient, router: respx.Router, code: int
) -> None:
    route = router.delete(ORDER).mock(return_value=api_error(code, "Unknown order sent."))
    assert await client.cancel_order("BTCUSDT", order_id=1) is None
    assert route.call_count == 1


async def test_cancel_sends_parameters_in_the_query_and_returns_the_order(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.delete(ORDER).respond(json=order_json(status="CANCELED"))
    order = await client.cancel_order("BTCUSDT", client_order_id="rb1-abc")
    request = route.calls.last.request
    assert request.content == b""
    assert dict(request.url.params)["origClientOrderId"] == "rb1-abc"
    assert order is not None and order.status is OrderStatus.CANCELED


async def test_cancel_needs_an_order_reference(client: ExchangeClient) -> None:
    with pytest.raises(ValueError):
        await client.cancel_order("BTCUSDT")


async def test_open_orders_without_symbol_costs_40(
    client: ExchangeClient, router: respx.Router, records: list
) -> None:
    router.get("/fapi/v1/openOrders").respond(json=[order_json(), order_json(orderId=7)])
    orders = await client.open_orders()
    assert [o.order_id for o in orders] == [4242, 7] and records[-1].weight == 40


async def test_cancel_all_leverage_balance_positions(
    client: ExchangeClient, router: respx.Router
) -> None:
    cancel_all = router.delete("/fapi/v1/allOpenOrders").respond(
        json={"code": 200, "msg": "The operation of cancel all open order is done."}
    )
    leverage = router.post("/fapi/v1/leverage").respond(
        json={"leverage": 10, "maxNotionalValue": "1000000", "symbol": "BTCUSDT"}
    )
    router.get("/fapi/v1/balance").respond(
        json=[{"asset": "USDC", "balance": "1000.5", "availableBalance": "900.25"}]
    )
    router.get("/fapi/v1/positionRisk").respond(
        json=[{"symbol": "BTCUSDT", "positionAmt": "-0.002", "entryPrice": "95000",
               "markPrice": "95100.5", "unRealizedProfit": "-0.2"}]
    )  # fmt: skip
    await client.cancel_all_orders("BTCUSDT")
    assert dict(cancel_all.calls.last.request.url.params)["symbol"] == "BTCUSDT"
    assert await client.set_leverage("BTCUSDT", 10) == 10
    assert body(leverage.calls.last.request)["leverage"] == "10"
    (balance,) = await client.balance()
    assert (balance.asset, balance.wallet, balance.available) == ("USDC", D("1000.5"), D("900.25"))
    (position,) = await client.position_risk("BTCUSDT")
    assert position.amount == D("-0.002") and position.notional == D("-190.2010")


async def test_v3_paths_come_from_settings(
    make_client: Callable[..., ExchangeClient],
    router: respx.Router,
) -> None:
    client = make_client(paths=ApiPaths(balance="/fapi/v3/balance"))
    route = router.get("/fapi/v3/balance").respond(json=[])
    assert await client.balance() == []
    assert route.call_count == 1
