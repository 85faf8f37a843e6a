"""Shared by the sandbox's hostile-input suites: a venue started once per module, the values
that once broke it, raw HTTP for what httpx will not send, and the account state a rejected
request must leave as it found it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.engine import Engine as SandboxEngine
from rocky_bot.sandbox.signing import sign

#: Values Python's readers took and Binance refuses, and values that once answered 500.
HOSTILE_VALUES = [
    "1E+999999", "9E+999998", "-1E+999999", "1E+9999999999", "1e-999999", "1e400",
    "1e-9999999999", "NaN", "-Infinity", "1_0", "１", "١٢", " 1", "1\n",
    "1.000000000000000000000000000001",
    "0." + "0" * 29 + "1", "95000." + "1" * 30, "9" * 25, "-1", "0", "", "x" * 3000, "\x00",
    "é", "\ufffd", "[1e400]", "[" * 3000, '{"a":' * 2000, "true", "null", "[]", "{}",
    str(2**64), "-9223372036854775809", "BTCUSDT", "btcusdt", "BUY", "SELL", "LIMIT", "MARKET",
    "GTC", "IOC", "GTX", "0.001", "95000", "95000.1", "1", "5", "1000",
]  # fmt: skip
PARAMS = [
    "symbol", "side", "type", "quantity", "price", "timeInForce", "reduceOnly",
    "newClientOrderId", "selfTradePreventionMode", "positionSide", "closePosition",
    "newOrderRespType", "orderId", "origClientOrderId", "batchOrders", "orderIdList",
    "origClientOrderIdList", "countdownTime", "limit", "startTime", "endTime", "fromId",
    "leverage", "marginType", "dualSidePosition", "incomeType", "interval", "pair",
    "contractType", "listenKey", "recvWindow",
]  # fmt: skip


@dataclass
class Venue:
    exchange: SandboxExchange
    http: httpx.AsyncClient
    key: str
    secret: str
    name: str  # the account's name on the exchange

    @property
    def engine(self) -> SandboxEngine:
        return self.exchange.engine

    def state(self) -> tuple:
        """What a rejected request must not change: wallet, positions, leverage, open orders,
        income history, and every account's open-order count."""
        engine = self.engine
        view = engine.account_view(self.name)
        positions = tuple((p.grid.symbol, p.amt_steps, p.cost_money, p.leverage)
                          for p in view.positions)  # fmt: skip
        orders = tuple(sorted(
            (o.order_id, o.symbol, o.side, o.price_ticks, o.qty_steps, o.filled_steps, o.status)
            for o in engine.open_orders(self.name)
        ))  # fmt: skip
        return (
            view.wallet_money,
            positions,
            orders,
            len(engine.incomes(self.name)),
            (engine.open_order_count()),
        )

    def signed_text(self, params: dict[str, Any], timestamp: Any = None) -> str:
        merged = {**params, "timestamp": timestamp or self.exchange.clock_ms()}
        payload = urlencode(merged)
        return f"{payload}&signature={sign(self.secret, payload)}"

    async def signed(
        self, method: str, path: str, params: dict[str, Any], *, in_body: bool = False,
        timestamp: Any = None,
    ) -> httpx.Response:  # fmt: skip
        text = self.signed_text(params, timestamp)
        headers = {"X-MBX-APIKEY": self.key}
        if in_body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return await self.http.request(method, path, content=text, headers=headers)
        return await self.http.request(method, f"{path}?{text}", headers=headers)


def binance_error(response: httpx.Response) -> tuple[int, str]:
    """The (code, msg) of an error reply; fails the test on a 500 or a non-Binance body."""
    assert response.status_code != 500, response.text[:300]
    assert response.headers.get("content-type", "").startswith("application/json"), response
    body = response.json()
    assert isinstance(body, dict), body
    code, msg = body.get("code"), body.get("msg")
    assert isinstance(code, int) and code < 0 and isinstance(msg, str), body
    assert len(msg) < 300, msg  # nothing sent is echoed back at length
    return code, msg


async def raw_http(port: int, head: bytes, body_chunks: list[bytes] = (), *, read_s: float = 3.0):
    """Send `head` (request line and headers) and then `body_chunks` as they can go, stopping
    as soon as a response arrives; → (status, headers+body bytes, bytes of body sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    try:
        writer.write(head)
        await writer.drain()
        reply = asyncio.ensure_future(reader.read(65536))
        for chunk in body_chunks:
            if reply.done():
                break
            writer.write(chunk)
            try:
                await asyncio.wait_for(writer.drain(), 1.0)
            except (TimeoutError, ConnectionError):
                break
            sent += len(chunk)
            await asyncio.sleep(0)
        data = await asyncio.wait_for(reply, read_s)
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
        return status, data, sent
    finally:
        writer.close()


def json_of(raw_reply: bytes) -> dict:
    return json.loads(raw_reply.split(b"\r\n\r\n", 1)[1])
