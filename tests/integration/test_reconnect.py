"""The shared Reconnector against real websockets servers on 127.0.0.1.

What the feed and the user stream rely on: a server that accepts and at once hangs up is not
redialled in a tight loop; a connection that delivered resets the backoff; close() ends the loop
at once, even mid-wait or mid-handshake; a fresh URL is dialled for every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from structlog.testing import capture_logs
from websockets.asyncio.server import ServerConnection, serve

from rocky_bot.backoff import Backoff
from rocky_bot.reconnect import LinkSettings, Outcome, Reconnector

FAST = LinkSettings(open_timeout_s=1.0, close_timeout_s=0.2, backoff=Backoff(0.02, 0.32))


async def eventually(predicate: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


class Server:
    """Accepts, sends `greeting` frames, then closes at once (or holds the connection)."""

    def __init__(self, greeting: int = 0, hold: bool = False) -> None:
        self.greeting = greeting
        self.hold = hold
        self.paths: list[str] = []
        self.handshake_seen = asyncio.Event()
        self.release_handshake: asyncio.Event | None = None
        self.connections: list[ServerConnection] = []

    async def process_request(self, connection, request):
        self.handshake_seen.set()
        if self.release_handshake is not None:
            await self.release_handshake.wait()

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        self.paths.append(ws.request.path if ws.request else "")
        for n in range(self.greeting):
            await ws.send(f"hello {n}")
        if self.hold:
            with contextlib.suppress(Exception):
                await ws.wait_closed()


@contextlib.asynccontextmanager
async def listening(server: Server) -> AsyncIterator[str]:
    async with serve(server.handler, "127.0.0.1", 0, process_request=server.process_request) as s:
        yield f"ws://127.0.0.1:{s.sockets[0].getsockname()[1]}"


class Client:
    """A link with a counter of frames received (its progress) and a log of dialled URLs."""

    def __init__(self, base: str, settings: LinkSettings = FAST) -> None:
        self.base = base
        self.frames = 0
        self.served = 0
        self.link = Reconnector("test_link", settings, progress=lambda: self.frames)

    async def dial(self) -> str:
        return f"{self.base}/conn/{self.served}"

    async def serve(self, ws) -> Outcome | None:
        self.served += 1
        async for _ in ws:
            self.frames += 1
        return None


def scheduled(logs: list[dict]) -> list[float]:
    return [e["delay_s"] for e in logs if e["event"] == "test_link_reconnect_scheduled"]


async def test_a_server_that_hangs_up_at_once_is_redialled_ever_more_slowly():
    """websockets' own reconnect loop resets its backoff on every successful handshake, so this
    server would be redialled with no pause at all."""
    server = Server()
    async with listening(server) as base:
        client = Client(base)
        with capture_logs() as logs:
            task = asyncio.create_task(client.link.run(client.dial, client.serve))
            await eventually(lambda: len(scheduled(logs)) >= 5)
            await client.link.close()
            await asyncio.wait_for(task, 2.0)
    delays = scheduled(logs)
    assert delays[0] <= 0.02 and delays[4] >= 0.16  # ceilings 0.02, 0.04, ... 0.32
    assert server.paths[:3] == ["/conn/0", "/conn/1", "/conn/2"]  # dialled afresh each time


async def test_a_connection_that_delivered_resets_the_backoff():
    server = Server()
    async with listening(server) as base:
        client = Client(base)
        with capture_logs() as logs:
            task = asyncio.create_task(client.link.run(client.dial, client.serve))
            await eventually(lambda: len(scheduled(logs)) >= 4)  # failures: delays grow
            server.greeting = 1  # from now on each connection delivers a frame, then closes
            seen = len(scheduled(logs))
            await eventually(lambda: len(scheduled(logs)) >= seen + 3)
            await client.link.close()
            await asyncio.wait_for(task, 2.0)
    delays = scheduled(logs)
    assert delays[3] > 0.08  # grown
    assert all(d <= 0.02 for d in delays[seen + 1 :])  # back at the first step, every time


async def test_close_ends_the_wait_between_attempts_at_once():
    async with serve(lambda ws: ws.close(), "127.0.0.1", 0) as s:
        port = s.sockets[0].getsockname()[1]
    slow = LinkSettings(open_timeout_s=1.0, backoff=Backoff(60.0, 60.0, jitter=0.0))
    client = Client(f"ws://127.0.0.1:{port}", slow)  # nothing listens there any more
    with capture_logs() as logs:
        task = asyncio.create_task(client.link.run(client.dial, client.serve))
        await eventually(lambda: scheduled(logs) == [60.0])
        await client.link.close()
        await asyncio.wait_for(task, 1.0)


async def test_a_close_racing_the_handshake_closes_what_the_handshake_opened():
    server = Server(hold=True)
    server.release_handshake = asyncio.Event()
    async with listening(server) as base:
        client = Client(base)
        task = asyncio.create_task(client.link.run(client.dial, client.serve))
        await server.handshake_seen.wait()
        closing = asyncio.create_task(client.link.close())  # nothing open yet to close
        await asyncio.sleep(0)
        server.release_handshake.set()  # now the handshake completes
        await asyncio.wait_for(task, 2.0)
        await closing
        assert client.served == 0  # the loop never served the late connection...
        await eventually(lambda: bool(server.connections))
        await asyncio.wait_for(server.connections[0].wait_closed(), 2.0)  # ...and closed it


async def test_direct_delivery_hands_every_message_over_in_order_and_serve_sees_the_close():
    """`on_message` gets each message as it is read (texts as UTF-8 bytes, fragments joined),
    in the order sent; nothing is left for `recv()`, and `serve` still ends with the close."""

    async def handler(ws: ServerConnection) -> None:
        await ws.send("one")
        await ws.send(["tw", "o"])  # a fragmented text message
        await ws.send(b"\x00three")
        await ws.send("four")

    got: list[bytes] = []
    queued: list[object] = []
    link = Reconnector("test_link", FAST, progress=lambda: len(got))

    async def serve(ws) -> Outcome:
        async for message in ws:
            queued.append(message)
        await link.close()
        return Outcome.GOOD

    async with serve_ws(handler) as url:
        await asyncio.wait_for(
            link.run(lambda: _const(url), serve, on_message=got.append), timeout=3.0
        )
    assert got == [b"one", b"two", b"\x00three", b"four"]
    assert queued == []


async def _const(url: str) -> str:
    return url


@contextlib.asynccontextmanager
async def serve_ws(handler) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0) as s:
        yield f"ws://127.0.0.1:{s.sockets[0].getsockname()[1]}"
