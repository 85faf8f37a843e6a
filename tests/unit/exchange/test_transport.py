"""The lean keep-alive transport against a raw asyncio server that answers exactly as scripted.

It must frame bodies both ways (Content-Length and chunked), reuse a kept-alive connection,
open a new one when the server closed the old, and raise httpx's own exceptions so the client
can tell "never sent" from "status unknown".
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from rocky_bot.exchange.client import shared_ssl_context
from rocky_bot.exchange.transport import KeepAliveTransport

Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]


class ScriptedServer:
    """Reads one request head (+ Content-Length body) at a time; the handler writes the reply."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []

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
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.handler(request, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def reply(body: bytes, *extra: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json", *extra]
    if not any(h.lower().startswith("transfer-encoding") for h in extra):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def client_for(base: str, timeout: float = 2.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base, transport=KeepAliveTransport(shared_ssl_context), timeout=timeout
    )


async def test_keep_alive_reuses_one_connection_and_sends_the_form_body():
    async def handler(request, reader, writer):
        body = request.split(b"\r\n\r\n", 1)[1]
        writer.write(reply(json.dumps({"echo": body.decode()}).encode()))
        await writer.drain()
        return True

    server = ScriptedServer(handler)
    async with server as base, await client_for(base) as client:
        first = await client.post(
            "/fapi/v1/order",
            content=b"a=1&b=2",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        second = await client.get("/fapi/v1/time", params={"x": "1"})
    assert first.json() == {"echo": "a=1&b=2"}
    assert second.status_code == 200
    assert server.connections == 1
    assert server.requests[1].startswith(b"GET /fapi/v1/time?x=1 HTTP/1.1\r\n")


async def test_chunked_reply_is_reassembled():
    async def handler(request, reader, writer):
        writer.write(reply(b"", "Transfer-Encoding: chunked"))
        writer.write(b'5\r\n{"a":\r\n3\r\n 42\r\n1\r\n}\r\n0\r\n\r\n')
        await writer.drain()
        return True

    async with ScriptedServer(handler) as base, await client_for(base) as client:
        assert (await client.get("/x")).json() == {"a": 42}


async def test_connection_close_reply_is_not_reused():
    async def handler(request, reader, writer):
        writer.write(reply(b"{}", "Connection: close"))
        await writer.drain()
        return False

    server = ScriptedServer(handler)
    async with server as base, await client_for(base) as client:
        await client.get("/a")
        await client.get("/b")
    assert server.connections == 2


async def test_a_connection_the_server_dropped_while_idle_is_replaced():
    async def handler(request, reader, writer):
        writer.write(reply(b"{}"))
        await writer.drain()
        return False  # closes after answering, without saying Connection: close

    server = ScriptedServer(handler)
    async with server as base, await client_for(base) as client:
        await client.get("/a")
        await asyncio.sleep(0.05)  # the close reaches us while the connection is idle
        assert (await client.get("/b")).status_code == 200
    assert server.connections == 2


async def test_silence_is_a_read_timeout_and_refusal_a_connect_error():
    async def handler(request, reader, writer):
        await asyncio.sleep(5)
        return False

    async with ScriptedServer(handler) as base, await client_for(base, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")
    async with await client_for(base) as client:  # the server is gone now
        with pytest.raises(httpx.ConnectError):
            await client.get("/gone")


async def test_a_reply_cut_short_is_a_protocol_error():
    async def handler(request, reader, writer):
        writer.write(reply(b'{"long": true}')[:-5])
        await writer.drain()
        return False

    async with ScriptedServer(handler) as base, await client_for(base) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/cut")
