"""A client wired to a respx router through the httpx transport, with injected time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from rocky_bot.exchange.client import ExchangeClient, RequestRecord
from rocky_bot.exchange.governor import WeightGovernor

BASE = "https://rocky.test"
KEY = "k3y-4ccount-0123456789abcdef0123456789abcdef"
SECRET = "s3cr3t-do-not-leak-0123456789abcdef0123456789"
NOW_S = 1_700_000_000.0


class FakeTime:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def order_json(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orderId": 4242,
        "symbol": "BTCUSDT",
        "status": "NEW",
        "clientOrderId": "rb1-abc",
        "price": "95000.10",
        "avgPrice": "0.00",
        "origQty": "0.001",
        "executedQty": "0",
        "cumQuote": "0",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "reduceOnly": False,
        "side": "BUY",
        "positionSide": "BOTH",
        "updateTime": 1_700_000_000_123,
    }
    body.update(overrides)
    return body


def api_error(code: int, msg: str = "nope", status: int = 400, **kw: Any) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "msg": msg}, **kw)


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=BASE, assert_all_called=False)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def governor(fake_time: FakeTime) -> WeightGovernor:
    return WeightGovernor(clock=fake_time)


@pytest.fixture
def records() -> list[RequestRecord]:
    return []


@pytest.fixture
async def make_client(
    router: respx.Router,
    governor: WeightGovernor,
    fake_time: FakeTime,
    records: list[RequestRecord],
) -> AsyncIterator[Callable[..., ExchangeClient]]:
    made: list[ExchangeClient] = []

    def make(account: str = "mm-anchor", **kw: Any) -> ExchangeClient:
        kw.setdefault("governor", governor)
        client = ExchangeClient(
            BASE,
            KEY,
            SECRET,
            account=account,
            transport=httpx.MockTransport(router.async_handler),
            clock=lambda: NOW_S,
            sleep=fake_time.sleep,
            on_request=records.append,
            **kw,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make_client: Callable[..., ExchangeClient]) -> ExchangeClient:
    return make_client()


D = Decimal
