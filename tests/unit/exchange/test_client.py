"""The client's plumbing over respx: signing, error translation, retries, clock, rate limits."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
import structlog

from rocky_bot.exchange.capabilities import Support
from rocky_bot.exchange.client import ExchangeClient, RequestRecord
from rocky_bot.exchange.errors import (
    FatalError,
    MalformedReplyError,
    RateLimitedError,
    RejectedError,
    RetryableError,
    TransportError,
)
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Side

from .conftest import KEY, NOW_S, SECRET, D, FakeTime, api_error, order_json

NOW_MS = int(NOW_S * 1000)


def signed_params(request: httpx.Request) -> dict[str, str]:
    """Check the signature independently; return the parameters (signature excluded)."""
    query, body = request.url.query.decode(), request.content.decode()
    carrier = body if body else query
    unsigned, _, signature = carrier.rpartition("&signature=")
    total = query + unsigned if body else unsigned
    expected = hmac.new(SECRET.encode(), total.encode(), hashlib.sha256).hexdigest()
    assert signature == expected, "signature is not HMAC-SHA256(secret, query + body) or not last"
    assert request.headers["X-MBX-APIKEY"] == KEY
    return dict(parse_qsl(query)) | dict(parse_qsl(unsigned if body else ""))


# ------------------------------------------------------------------------------------ signing


async def test_signed_order_request_recomputes_independently(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.post("/fapi/v1/order").respond(json=order_json())
    await client.place_order(
        symbol="BTCUSDT", side=Side.BUY, qty=D("1E-3"), price=D("95000.10"), client_order_id="rb1-a"
    )
    request = route.calls.last.request
    params = signed_params(request)
    # In the query string, so the request leaves in one write (a form body was a second one).
    assert request.content == b"" and "Content-Type" not in request.headers
    assert params["quantity"] == "0.001" and params["price"] == "95000.10"
    assert params["timestamp"] == str(NOW_MS) and params["recvWindow"] == "5000"


async def test_reads_are_signed_in_the_query_string(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.get("/fapi/v1/openOrders").respond(json=[order_json()])
    await client.open_orders("BTCUSDT")
    request = route.calls.last.request
    assert request.content == b""
    assert signed_params(request)["symbol"] == "BTCUSDT"


async def test_public_calls_carry_no_key(client: ExchangeClient, router: respx.Router) -> None:
    route = router.get("/fapi/v1/time").respond(json={"serverTime": NOW_MS})
    await client.sync_time()
    assert "X-MBX-APIKEY" not in route.calls.last.request.headers


async def test_exchange_info_is_public_and_typed(
    client: ExchangeClient, router: respx.Router
) -> None:
    from .test_parse import EXCHANGE_INFO

    route = router.get("/fapi/v1/exchangeInfo").respond(json=EXCHANGE_INFO)
    rules = await client.exchange_info()
    assert rules["BLZUSDT"].tick_size == D("0.0001")
    request = route.calls.last.request
    assert "X-MBX-APIKEY" not in request.headers and request.url.query == b""


# -------------------------------------------------------------------------------- clock sync


async def test_sync_time_learns_the_offset_used_by_later_requests(
    client: ExchangeClient, router: respx.Router
) -> None:
    router.get("/fapi/v1/time").respond(json={"serverTime": NOW_MS + 1234})
    route = router.get("/fapi/v1/balance").respond(json=[])
    assert await client.sync_time() == 1234
    await client.balance()
    assert signed_params(route.calls.last.request)["timestamp"] == str(NOW_MS + 1234)


async def test_minus_1021_resyncs_the_clock_and_retries_once(
    client: ExchangeClient, router: respx.Router
) -> None:
    time_route = router.get("/fapi/v1/time").respond(json={"serverTime": NOW_MS - 3000})
    route = router.get("/fapi/v1/positionRisk").mock(
        side_effect=[
            api_error(-1021, "Timestamp outside of the recvWindow."),
            httpx.Response(200, json=[]),
        ]
    )
    assert await client.position_risk() == []
    assert time_route.call_count == 1 and route.call_count == 2
    assert signed_params(route.calls.last.request)["timestamp"] == str(NOW_MS - 3000)


async def test_minus_1021_twice_is_raised_not_looped(
    client: ExchangeClient, router: respx.Router
) -> None:
    router.get("/fapi/v1/time").respond(json={"serverTime": NOW_MS})
    route = router.get("/fapi/v1/balance").mock(return_value=api_error(-1021))
    with pytest.raises(RejectedError) as info:
        await client.balance()
    assert info.value.code == -1021 and route.call_count == 2


# --------------------------------------------------------------------------- error translation


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (api_error(-2015, "Invalid API-key, IP, or permissions for action.", 401), FatalError),
        (api_error(-1022, "Signature for this request is not valid."), FatalError),
        (api_error(-2019, "Margin is insufficient."), RejectedError),
    ],
)
async def test_binance_error_bodies_map_onto_the_tree(
    client: ExchangeClient, router: respx.Router, reply: httpx.Response, kind: type
) -> None:
    route = router.get("/fapi/v1/balance").mock(return_value=reply)
    with pytest.raises(kind):
        await client.balance()
    assert route.call_count == 1  # a definite "no" is never repeated


async def test_html_reply_is_malformed_naming_the_endpoint(
    client: ExchangeClient, router: respx.Router
) -> None:
    router.get("/fapi/v1/balance").respond(200, html="<html>proxy login</html>")
    with pytest.raises(MalformedReplyError) as info:
        await client.balance()
    assert info.value.endpoint == "/fapi/v1/balance" and "not JSON" in info.value.problem


async def test_wrong_field_type_is_malformed_naming_the_field(
    client: ExchangeClient, router: respx.Router
) -> None:
    router.get("/fapi/v1/openOrders").respond(json=[order_json(orderId="x1")])
    with pytest.raises(MalformedReplyError) as info:
        await client.open_orders()
    assert "[0].orderId" in info.value.problem


async def test_reads_retry_5xx_with_backoff_then_succeed(
    client: ExchangeClient, router: respx.Router, fake_time: FakeTime
) -> None:
    route = router.get("/fapi/v1/balance").mock(
        side_effect=[httpx.Response(502, text="Bad Gateway"), api_error(-1001, "x", 500),
                     httpx.Response(200, json=[])]
    )  # fmt: skip
    assert await client.balance() == []
    assert route.call_count == 3
    first, second = fake_time.slept  # jittered below a ceiling that doubles from 50 ms
    assert 0.025 <= first <= 0.05 and 0.05 <= second <= 0.1


async def test_reads_give_up_after_bounded_attempts(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.get("/fapi/v1/balance").mock(return_value=httpx.Response(503, text="down"))
    with pytest.raises(RetryableError):
        await client.balance()
    assert route.call_count == 3


async def test_connection_refused_is_a_transport_error(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.get("/fapi/v1/openOrders").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError):
        await client.open_orders("BTCUSDT")
    assert route.call_count == 3


async def test_timeout_on_a_read_is_a_transport_error(
    client: ExchangeClient, router: respx.Router
) -> None:
    router.get("/fapi/v1/positionRisk").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransportError, match="ReadTimeout after 5 s"):
        await client.position_risk("BTCUSDT")


async def test_two_clients_failing_together_do_not_retry_in_lock_step(
    make_client: Callable[..., ExchangeClient], router: respx.Router, fake_time: FakeTime
) -> None:
    router.get("/fapi/v1/balance").mock(return_value=httpx.Response(503, text="down"))
    waits = []
    for account in ("mm-l1-buy-05bps", "mm-l1-sell-05bps"):
        fake_time.slept.clear()
        with pytest.raises(RetryableError):
            await make_client(account).balance()
        waits.append(list(fake_time.slept))
    assert waits[0] != waits[1]


# -------------------------------------------------------------------------------- rate limits


async def test_429_pauses_this_client_for_retry_after_and_is_not_retried(
    make_client: Callable[..., ExchangeClient], router: respx.Router, governor: WeightGovernor
) -> None:
    client = make_client("taker-1")
    route = router.get("/fapi/v1/balance").mock(
        return_value=api_error(-1003, "Too many requests", 429, headers={"Retry-After": "7"})
    )
    with pytest.raises(RateLimitedError) as info:
        await client.balance()
    assert info.value.retry_after_s == 7 and route.call_count == 1
    assert governor.paused_for("taker-1") == 7
    assert governor.paused_for("taker-2") == 0


async def test_418_pauses_every_client_default_60s(
    make_client: Callable[..., ExchangeClient], router: respx.Router, governor: WeightGovernor
) -> None:
    client = make_client("taker-1")
    router.get("/fapi/v1/balance").mock(return_value=httpx.Response(418, text="banned"))
    with pytest.raises(RateLimitedError) as info:
        await client.balance()
    assert info.value.is_ban
    assert governor.paused_for("mm-anchor") == 60 and governor.paused_for("taker-1") == 60


async def test_every_call_waits_for_the_governor_first(
    client: ExchangeClient, router: respx.Router, governor: WeightGovernor, fake_time: FakeTime
) -> None:
    sent_at: list[float] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake_time.now)
        return httpx.Response(200, json=[])

    router.get("/fapi/v1/balance").mock(side_effect=reply)
    governor.pause(5, client_id="mm-anchor")
    start = fake_time.now
    await client.balance()
    assert sent_at == [start + 5]


async def test_used_weight_header_is_observed_by_the_shared_governor(
    make_client: Callable[..., ExchangeClient], router: respx.Router, governor: WeightGovernor
) -> None:
    router.get("/fapi/v1/balance").respond(json=[], headers={"X-MBX-USED-WEIGHT-1M": "2000"})
    await make_client("mm-l1-buy-05bps").balance()
    assert governor.used_weight == 2000 and not governor.allow_optional()


# ------------------------------------------------------------------------------- capabilities


async def test_modify_unsupported_is_learnt_once_and_never_retried(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.put("/fapi/v1/order").respond(404, text="Not Found")
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            with pytest.raises(RejectedError) as info:
                await client.modify_order(
                    "BTCUSDT", order_id=1, side=Side.BUY, qty=D("0.001"), price=D("95000")
                )
            assert info.value.capability == "modify"  # type: ignore[attr-defined]
    assert client.capabilities.modify is Support.MISSING
    assert route.call_count == 1
    assert [e["capability"] for e in logs if e["event"] == "capability_missing"] == ["modify"]


async def test_modify_of_a_gone_order_does_not_disable_modify(
    client: ExchangeClient, router: respx.Router
) -> None:
    router.put("/fapi/v1/order").mock(return_value=api_error(-2013, "Order does not exist.", 404))
    with pytest.raises(RejectedError):
        await client.modify_order(
            "BTCUSDT", order_id=1, side=Side.SELL, qty=D("0.001"), price=D("95000")
        )
    assert client.capabilities.modify is Support.UNKNOWN


async def test_modify_success_marks_modify_supported(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.put("/fapi/v1/order").respond(json=order_json(price="95001.0"))
    order = await client.modify_order(
        "BTCUSDT", order_id=4242, side=Side.BUY, qty=D("0.001"), price=D("95001.0")
    )
    assert order.price == D("95001.0") and client.capabilities.modify is Support.PRESENT
    params = signed_params(route.calls.last.request)
    assert params["orderId"] == "4242" and params["price"] == "95001.0"


async def test_countdown_unknown_endpoint_disables_dead_man(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.post("/fapi/v1/countdownCancelAll").mock(return_value=api_error(-1000))
    for _ in range(2):
        with pytest.raises(RejectedError):
            await client.countdown_cancel_all("BTCUSDT", 30_000)
    assert client.capabilities.countdown is Support.MISSING and route.call_count == 1


async def test_countdown_supported_sends_symbol_and_time(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.post("/fapi/v1/countdownCancelAll").respond(
        json={"symbol": "BTCUSDT", "countdownTime": "30000"}
    )
    await client.countdown_cancel_all("BTCUSDT", 30_000)
    assert signed_params(route.calls.last.request)["countdownTime"] == "30000"
    assert client.capabilities.countdown is Support.PRESENT


async def test_user_stream_missing_is_learnt_once(
    client: ExchangeClient, router: respx.Router
) -> None:
    route = router.post("/fapi/v1/listenKey").respond(405, text="Method Not Allowed")
    for _ in range(2):
        with pytest.raises(RejectedError):
            await client.new_listen_key()
    assert client.capabilities.user_stream is Support.MISSING and route.call_count == 1


async def test_listen_key_calls_use_the_key_but_no_signature(
    client: ExchangeClient, router: respx.Router
) -> None:
    post = router.post("/fapi/v1/listenKey").respond(json={"listenKey": "lk-1"})
    put = router.put("/fapi/v1/listenKey").respond(json={"listenKey": "lk-1"})
    delete = router.delete("/fapi/v1/listenKey").respond(json={})
    assert await client.new_listen_key() == "lk-1"
    await client.keepalive_listen_key()
    await client.close_listen_key()
    for route in (post, put, delete):
        request = route.calls.last.request
        assert request.headers["X-MBX-APIKEY"] == KEY
        assert b"signature" not in request.url.query + request.content
    assert client.capabilities.user_stream is Support.PRESENT


# --------------------------------------------------------------------------- records, secrets


async def test_every_attempt_is_recorded_without_secrets(
    client: ExchangeClient, router: respx.Router, records: list[RequestRecord]
) -> None:
    router.get("/fapi/v1/positionRisk").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json=[])]
    )
    router.get("/fapi/v1/order").mock(return_value=api_error(-2013, "Order does not exist."))
    await client.position_risk()
    await client.get_order("BTCUSDT", order_id=1)
    assert [(r.endpoint, r.http_status, r.code, r.weight) for r in records] == [
        ("/fapi/v1/positionRisk", 502, 0, 5),
        ("/fapi/v1/positionRisk", 200, None, 5),
        ("/fapi/v1/order", 400, -2013, 1),
    ]
    assert all(r.account == "mm-anchor" and r.elapsed_s >= 0 for r in records)
    assert not any(SECRET in repr(r) or KEY in repr(r) or "signature" in repr(r) for r in records)


async def test_secret_never_in_reprs_errors_or_logs(
    client: ExchangeClient, router: respx.Router
) -> None:
    router.get("/fapi/v1/balance").mock(side_effect=httpx.ConnectError("refused"))
    router.put("/fapi/v1/order").respond(404)
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(TransportError) as transport:
            await client.balance()
        with pytest.raises(RejectedError) as rejected:
            await client.modify_order(
                "BTCUSDT", order_id=1, side=Side.BUY, qty=D("1"), price=D("2")
            )
    text = " ".join([repr(client), str(transport.value), str(rejected.value), repr(logs)])
    assert SECRET not in text and KEY not in text


async def test_floats_are_refused_as_prices(client: ExchangeClient) -> None:
    with pytest.raises(ValueError):
        await client.place_order(
            symbol="BTCUSDT",
            side=Side.BUY,
            qty=0.001,
            price=D("1"),
            client_order_id="x",  # type: ignore[arg-type]
        )
