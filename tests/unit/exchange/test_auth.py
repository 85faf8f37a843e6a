"""Signing: Binance's published USDⓈ-M vector, both placements, and what gets (not) signed."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest

from rocky_bot.exchange.auth import (
    API_KEY,
    SECURITY,
    SIGNED,
    BinanceHmacAuth,
    ServerClock,
    sign,
)

# Binance USDⓈ-M docs, "SIGNED Endpoint Examples for POST /fapi/v1/order" (reference §1).
KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
PAYLOAD = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
    "&recvWindow=5000&timestamp=1591702613943"
)
SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
PARAMS = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"


def vector_auth() -> BinanceHmacAuth:
    clock = ServerClock(clock=lambda: 1591702613.0)
    clock.offset_ms = 943  # server time of the vector: 1591702613943
    return BinanceHmacAuth(KEY, SECRET, clock, recv_window_ms=5000)


def send(request: httpx.Request, auth: httpx.Auth) -> httpx.Request:
    """Run `request` through `auth` and return what reached the wire."""
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json={})

    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.send(request)
    return seen[0]


def test_sign_matches_binance_usdm_vector() -> None:
    assert sign(SECRET, PAYLOAD) == SIGNATURE


def test_sign_matches_binance_spot_vector() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    payload = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert sign(secret, payload) == (
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


def test_vector_in_query_string() -> None:
    request = httpx.Request(
        "POST", f"https://x.test/fapi/v1/order?{PARAMS}", extensions={SECURITY: SIGNED}
    )
    sent = send(request, vector_auth())
    assert sent.url.query.decode() == f"{PAYLOAD}&signature={SIGNATURE}"
    assert sent.content == b""
    assert sent.headers["X-MBX-APIKEY"] == KEY


def test_vector_in_request_body() -> None:
    request = httpx.Request(
        "POST",
        "https://x.test/fapi/v1/order",
        content=PARAMS.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        extensions={SECURITY: SIGNED},
    )
    sent = send(request, vector_auth())
    assert sent.content.decode() == f"{PAYLOAD}&signature={SIGNATURE}"
    assert sent.url.query == b""
    assert sent.headers["Content-Length"] == str(len(sent.content))
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.headers["X-MBX-APIKEY"] == KEY


def test_mixed_placement_signs_query_then_body_with_signature_last() -> None:
    request = httpx.Request(
        "POST",
        "https://x.test/fapi/v1/order?symbol=BTCUSDT&side=BUY&type=LIMIT",
        content=b"quantity=1&price=9000",
        extensions={SECURITY: SIGNED},
    )
    sent = send(request, vector_auth())
    query, body = sent.url.query.decode(), sent.content.decode()
    unsigned_body, _, signature = body.rpartition("&signature=")
    assert query == "symbol=BTCUSDT&side=BUY&type=LIMIT"
    assert unsigned_body == "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
    expected = hmac.new(SECRET.encode(), (query + unsigned_body).encode(), hashlib.sha256)
    assert signature == expected.hexdigest()


def test_public_request_carries_neither_key_nor_signature() -> None:
    sent = send(httpx.Request("GET", "https://x.test/fapi/v1/time"), vector_auth())
    assert "X-MBX-APIKEY" not in sent.headers
    assert sent.url.query == b""


def test_api_key_only_request_is_not_signed() -> None:
    request = httpx.Request(
        "POST", "https://x.test/fapi/v1/listenKey", extensions={SECURITY: API_KEY}
    )
    sent = send(request, vector_auth())
    assert sent.headers["X-MBX-APIKEY"] == KEY
    assert b"signature" not in sent.url.query and sent.content == b""


def test_each_attempt_is_stamped_with_the_current_server_time() -> None:
    now = [1000.0]
    clock = ServerClock(clock=lambda: now[0])
    clock.offset_ms = -250
    auth = BinanceHmacAuth(KEY, SECRET, clock, recv_window_ms=7000)
    first = send(httpx.Request("GET", "https://x.test/a", extensions={SECURITY: SIGNED}), auth)
    now[0] = 1002.5
    second = send(httpx.Request("GET", "https://x.test/a", extensions={SECURITY: SIGNED}), auth)
    assert first.url.params["timestamp"] == "999750"
    assert second.url.params["timestamp"] == "1002250"
    assert first.url.params["recvWindow"] == "7000"


def test_repr_reveals_neither_secret_nor_full_key() -> None:
    auth = vector_auth()
    text = repr(auth) + str(auth) + repr(vars(auth) if hasattr(auth, "__dict__") else "")
    assert SECRET not in text
    assert KEY not in text
    assert KEY[:4] in repr(auth)


def test_recv_window_outside_binance_bounds_is_refused() -> None:
    with pytest.raises(ValueError):
        BinanceHmacAuth(KEY, SECRET, ServerClock(), recv_window_ms=60_001)
