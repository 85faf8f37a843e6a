"""The other end of `bench.floor`: a process that answers requests and streams ticks, and nothing
else, so that what the floor measures is the client's cost and not a server's.

    python -m rocky_bot.bench.floor_server   # prints {"http": port, "ws": port, "tcp": port}

- **http**: any HTTP/1.1 request (no body) gets the same 200 with a 300-byte JSON body, as an
  order reply is about; connections are kept alive.
- **ws**: a websocket on `/ticks?rate=R&count=N&batch=B` gets N bookTicker-sized text frames,
  B at a time, R frames a second on average, then a close.
- **tcp**: the same frames' bytes without websockets: the client writes `R N B\\n` first. What
  a read costs with no protocol above it: the wake-up floor.

Its own process, as the exchange is the fleet's: a reply wakes the client from another process.
Listens on 127.0.0.1 only; runs until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import parse_qs, urlsplit

import uvloop
from websockets.asyncio.server import ServerConnection, serve

BODY = b'{"orderId":1,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"rk-floor",' + b" " * 225
REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY
)
#: A Binance bookTicker frame's size and shape.
TICK = json.dumps({
    "e": "bookTicker", "u": 400900217, "s": "BTCUSDT", "b": "95000.10", "B": "31.21",
    "a": "95000.20", "A": "40.66", "T": 1764500000000, "E": 1764500000001,
}, separators=(",", ":"))  # fmt: skip


class _Replies(asyncio.Protocol):
    """One fixed reply per request head; requests carry no body."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._buffer = b""

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        heads = self._buffer.count(b"\r\n\r\n")
        if heads:
            self._buffer = self._buffer.rsplit(b"\r\n\r\n", 1)[1]
            self._transport.write(REPLY * heads)  # type: ignore[attr-defined]


async def _paced(send, rate: float, count: int, batch: int) -> None:
    """`count` sends, `batch` at a time, on a schedule of `rate` a second (no drift)."""
    loop = asyncio.get_running_loop()
    start, sent = loop.time(), 0
    while sent < count:
        n = min(batch, count - sent)
        await send(n)
        sent += n
        await asyncio.sleep(max(0.0, start + sent / rate - loop.time()))


async def _ticks_ws(ws: ServerConnection) -> None:
    query = parse_qs(urlsplit(ws.request.path).query)  # type: ignore[union-attr]
    rate, count, batch = (float(query[k][0]) for k in ("rate", "count", "batch"))

    async def send(n: int) -> None:
        for _ in range(n):
            await ws.send(TICK)

    await _paced(send, rate, int(count), int(batch))


async def _ticks_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    rate, count, batch = (float(x) for x in (await reader.readline()).split())
    frame = TICK.encode()

    async def send(n: int) -> None:
        writer.write(frame * n)
        await writer.drain()

    await _paced(send, rate, int(count), int(batch))
    writer.close()


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    http = await loop.create_server(_Replies, "127.0.0.1", 0)
    tcp = await asyncio.start_server(_ticks_tcp, "127.0.0.1", 0)
    async with serve(_ticks_ws, "127.0.0.1", 0, compression=None) as ws:
        ports = {name: server.sockets[0].getsockname()[1] for name, server in
                 (("http", http), ("ws", ws), ("tcp", tcp))}  # fmt: skip
        print(json.dumps(ports), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    sys.exit(uvloop.run(_serve()))
