"""The client's HTTP stack against a raw asyncio server on 127.0.0.1 that answers as scripted.

These are transport properties, so no respx: a 204 answers at once, a reply over the cap (framed
or not) is refused after reading no more than the cap, a reply that drips is cut at the deadline,
the pool is bounded, and a kept-alive connection is reused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import MalformedReplyError, TransportError, UnknownStatusError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Side

from .conftest import KEY, SECRET, D

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]


class ScriptedServer:
    """Reads one request (head + Content-Length body) at a time; `handler` writes the reply and
    says whether to keep the connection. Counts connections, requests and bytes written."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.sent = 0

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                self.requests.append(head + await reader.readexactly(length))
                if not await self.handler(head, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()
        self.sent += len(data)


def reply(body: bytes = b"{}", status: str = "200 OK", *, length: bool = True) -> bytes:
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
    if length:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def client_for(base: str, **kw: Any) -> ExchangeClient:
    kw.setdefault("timeout_s", 5.0)
    return ExchangeClient(
        base, KEY, SECRET, account="mm-anchor", governor=WeightGovernor(), max_read_attempts=1,
        **kw,
    )  # fmt: skip


async def test_a_204_answers_at_once():
    """The hand-written transport read a 204 to the end of the connection: 2 s of nothing."""
    server = ScriptedServer(lambda head, w: _answer(server, w, reply(b"", "204 No Content")))
    async with server as base, client_for(base, timeout_s=5.0) as client:
        started = time.monotonic()
        await client.close_listen_key()  # its reply is not read: a 204 is a success
        elapsed = time.monotonic() - started
    assert server.requests[0].startswith(b"DELETE /fapi/v1/listenKey ")
    assert elapsed < 1.0  # the timeout is 5 s; honest slack for a busy machine


async def test_sequential_requests_reuse_one_kept_alive_connection():
    server = ScriptedServer(lambda head, w: _answer(server, w, reply(b'{"serverTime": 1}')))
    async with server as base, client_for(base) as client:
        for _ in range(5):
            await client.sync_time()
    assert len(server.requests) == 5 and server.connections == 1


async def test_a_reply_declaring_more_than_the_cap_is_refused_unread():
    big = b"[" + b"0," * 600_000 + b"0]"  # 1.2 MB of valid JSON

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> bool:
        await server.write(writer, reply(big)[:4096])  # the head and a first slice only
        return True

    server = ScriptedServer(handler)
    async with server as base, client_for(base, max_reply_bytes=1 << 20) as client:
        with pytest.raises(MalformedReplyError) as info:
            await client.open_orders("BTCUSDT")
    assert "declares 1200003 bytes" in str(info.value) and "1048576-byte cap" in str(info.value)
    assert client.reply_problems.counts == {"too_large": 1}


async def test_a_reply_without_framing_is_cut_at_the_cap_not_read_to_the_end():
    """No Content-Length, no chunking: the body runs until the server closes, and this one
    never does. Reading stops at the cap instead of filling memory."""
    stop = asyncio.Event()

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> bool:
        await server.write(writer, reply(b"", length=False))
        try:
            while not stop.is_set():
                await server.write(writer, b" " * 65536)
        except ConnectionError:
            pass
        return False

    server = ScriptedServer(handler)
    cap = 256 * 1024
    async with server as base, client_for(base, max_reply_bytes=cap) as client:
        with pytest.raises(MalformedReplyError, match=r"ran past \d+ bytes, over the 262144"):
            await client.open_orders("BTCUSDT")
        stop.set()
    assert client.reply_problems.counts == {"too_large": 1}


async def test_an_order_reply_over_the_cap_is_an_unknown_outcome_looked_up_not_resent():
    """A reply we refuse to read may still say the order was placed."""

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> bool:
        if head.startswith(b"POST"):
            await server.write(writer, reply(b" " * 5000))
        else:  # the look-up finds the order
            body = (
                b'{"orderId": 7, "symbol": "BTCUSDT", "status": "NEW", "clientOrderId": "rb-1",'
                b' "price": "95000", "origQty": "0.001", "executedQty": "0", "side": "BUY",'
                b' "type": "LIMIT", "timeInForce": "GTC", "updateTime": 1}'
            )
            await server.write(writer, reply(body))
        return True

    server = ScriptedServer(handler)
    async with server as base, client_for(base, max_reply_bytes=4096) as client:
        order = await client.place_order(
            symbol="BTCUSDT", side=Side.BUY, qty=D("0.001"), price=D("95000"),
            client_order_id="rb-1",
        )  # fmt: skip
    assert order.order_id == 7
    assert [r.split(b" ")[0] for r in server.requests] == [b"POST", b"GET"]


async def test_a_reply_that_drips_is_cut_at_the_deadline():
    """Each byte arrives within the read timeout, so only a deadline on the whole attempt
    ends it: twice the request timeout."""
    stop = asyncio.Event()

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> bool:
        await server.write(writer, reply(b"", length=False))
        try:
            while not stop.is_set():
                await server.write(writer, b" ")
                await asyncio.sleep(0.02)
        except ConnectionError:
            pass
        return False

    server = ScriptedServer(handler)
    async with server as base, client_for(base, timeout_s=0.2) as client:
        started = time.monotonic()
        with pytest.raises(TransportError, match="ReadTimeout"):
            await client.open_orders("BTCUSDT")
        with pytest.raises(UnknownStatusError):  # an order: it may have been placed
            await client.modify_order(
                "BTCUSDT", order_id=1, side=Side.BUY, qty=D("0.001"), price=D("95000")
            )
        elapsed = time.monotonic() - started
        stop.set()
    assert elapsed < 3.0  # two attempts of a 0.4 s deadline each; slack for a busy machine


@pytest.mark.parametrize(("max_connections", "bounded"), [(2, True), (16, False)])
async def test_the_connection_pool_is_bounded(max_connections, bounded):
    """Eight requests at once open at most `max_connections` sockets; the rest wait their turn.
    (With a bound above the burst, all eight connect: the test can tell the difference.)"""
    server = ScriptedServer(lambda head, w: _answer(server, w, reply(b'{"serverTime": 1}')))
    async with server as base, client_for(base, max_connections=max_connections) as client:
        await asyncio.gather(*(client.sync_time() for _ in range(8)))
    assert len(server.requests) == 8
    if bounded:
        assert server.connections <= max_connections
    else:
        assert server.connections > 2


async def _answer(server: ScriptedServer, writer: asyncio.StreamWriter, data: bytes) -> bool:
    await server.write(writer, data)
    return True
