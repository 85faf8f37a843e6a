"""UserStream against a real websockets server on 127.0.0.1 and a fake exchange client, and
against the sandbox where the exchange's side matters (the listenKey deleted on stop)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal as D
from http import HTTPStatus

import httpx
import pytest
from conftest import mint
from fleet_harness import running_fleet
from structlog.testing import capture_logs
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidURI

from rocky_bot.exchange.capabilities import Capabilities, Support
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import RejectedError, classify
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import AccountUpdate, OrderStatus, OrderUpdate, Side
from rocky_bot.exchange.user_stream import UserStream
from rocky_bot.keys import load_keys

ORDER_UPDATE = {
    "e": "ORDER_TRADE_UPDATE",
    "E": 1568879465651,
    "T": 1568879465650,
    "o": {
        "s": "BTCUSDT",
        "c": "rb-1-abc",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "0.001",
        "p": "95000.0",
        "ap": "95000.0",
        "sp": "0",
        "x": "TRADE",
        "X": "FILLED",
        "i": 42,
        "l": "0.001",
        "z": "0.001",
        "L": "95000.0",
        "T": 1568879465650,
        "t": 7,
        "m": True,
        "R": False,
        "ps": "BOTH",
    },
}
ACCOUNT_UPDATE = {
    "e": "ACCOUNT_UPDATE",
    "E": 1568879465652,
    "T": 1568879465651,
    "a": {
        "m": "ORDER",
        "B": [{"a": "USDT", "wb": "1000.5", "cw": "990.5", "bc": "0"}],
        "P": [{"s": "BTCUSDT", "pa": "0.001", "ep": "95000.0", "up": "0", "ps": "BOTH"}],
    },
}


class FakeClient:
    """The slice of the exchange client a UserStream uses, with scripted answers."""

    def __init__(self, *, user_stream: Support = Support.UNKNOWN) -> None:
        self.capabilities = Capabilities(user_stream=user_stream)
        self.keys_issued = 0
        self.keepalives = 0
        self.keys_closed = 0
        self.new_key_error: Exception | None = None
        self.keepalive_error: Exception | None = None
        self.close_hangs = False

    async def new_listen_key(self) -> str:
        if self.new_key_error is not None:
            raise self.new_key_error
        self.keys_issued += 1
        return f"secret-listen-key-{self.keys_issued}"

    async def keepalive_listen_key(self) -> None:
        self.keepalives += 1
        if self.keepalive_error is not None:
            error, self.keepalive_error = self.keepalive_error, None
            raise error

    async def close_listen_key(self) -> None:
        if self.close_hangs:
            await asyncio.Event().wait()  # an exchange that never answers
        self.keys_closed += 1


class ScriptedUserStreamServer:
    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.paths: list[str] = []
        self.reject_next = 0  # answer this many handshakes with HTTP 503

    def process_request(self, connection, request):
        if self.reject_next:
            self.reject_next -= 1
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "busy\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        self.paths.append(ws.request.path if ws.request else "")
        with contextlib.suppress(Exception):
            await ws.wait_closed()

    async def send(self, message: object) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        await self.connections[-1].send(text)


async def eventually(predicate: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


class Account:
    """Stands in for AccountState: collects events and counts re-snapshots."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.resyncs = 0

    def on_event(self, event: object) -> None:
        self.events.append(event)

    async def on_reconnect(self) -> None:
        self.resyncs += 1


@contextlib.asynccontextmanager
async def running_stream(
    client: FakeClient, *, reject_first: int = 0, **kwargs: object
) -> AsyncIterator[tuple[UserStream, ScriptedUserStreamServer, Account]]:
    server = ScriptedUserStreamServer()
    server.reject_next = reject_first
    account = Account()
    async with serve(
        server.handler, "127.0.0.1", 0, process_request=server.process_request
    ) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        options = {"backoff_initial_s": 0.02, "backoff_max_s": 0.1, "close_timeout_s": 0.2}
        stream = UserStream(
            client,
            f"ws://127.0.0.1:{port}",
            account.on_event,
            account.on_reconnect,
            **(options | kwargs),  # type: ignore[arg-type]
        )
        task = asyncio.create_task(stream.run())
        try:
            yield stream, server, account
        finally:
            await stream.close()
            await asyncio.wait_for(task, 3.0)


async def test_events_are_parsed_and_delivered_after_the_resnapshot():
    client = FakeClient()
    async with running_stream(client) as (stream, server, account):
        await eventually(lambda: account.resyncs == 1 and stream.connected)
        assert server.paths == ["/ws/secret-listen-key-1"]
        await server.send(ORDER_UPDATE)
        await server.send({"e": "MARGIN_CALL", "E": 1})  # not for us: skipped
        await server.send("garbage")  # counted, the stream goes on
        await server.send("[" * 100_000 + "]" * 100_000)  # nested past the parser's depth
        await server.send({**ORDER_UPDATE, "o": {**ORDER_UPDATE["o"], "z": "0e999"}})
        await server.send(ACCOUNT_UPDATE)
        await eventually(lambda: len(account.events) == 2)
        order, update = account.events
        assert isinstance(order, OrderUpdate)
        assert (order.order_id, order.side, order.status) == (42, Side.BUY, OrderStatus.FILLED)
        assert order.last_fill_qty == D("0.001")
        assert isinstance(update, AccountUpdate)
        assert update.positions[0].amount == D("0.001")
        assert stream.bad_messages == 3
        assert len(server.connections) == 1


async def test_every_reconnect_is_followed_by_a_resnapshot():
    client = FakeClient()
    async with running_stream(client) as (_, server, account):
        await eventually(lambda: account.resyncs == 1)
        await server.connections[-1].close()
        await eventually(lambda: len(server.connections) == 2 and account.resyncs == 2)
        await server.connections[-1].close()
        await eventually(lambda: len(server.connections) == 3 and account.resyncs == 3)
        await server.send(ORDER_UPDATE)
        await eventually(lambda: len(account.events) == 1)


async def test_failed_handshakes_are_retried_and_the_key_never_logged():
    client = FakeClient()
    with capture_logs() as logs:
        async with running_stream(client, reject_first=3) as (stream, server, account):
            await eventually(lambda: stream.connected and account.resyncs == 1)
            assert client.keys_issued == 4  # one listenKey POST per attempt
            assert len(server.connections) == 1
    assert sum(e["event"] == "user_stream_disconnected" for e in logs) == 3
    assert "secret-listen-key" not in repr(logs)


async def test_keepalive_is_sent_every_keepalive_interval():
    client = FakeClient()
    async with running_stream(client, keepalive_s=0.03) as (stream, _, _account):
        await eventually(lambda: client.keepalives >= 3)
        assert stream.connected
        assert client.keys_issued == 1


async def test_keepalive_answered_minus_1125_takes_a_new_key():
    client = FakeClient()
    client.keepalive_error = classify(-1125, "This listenKey does not exist.", 400)
    async with running_stream(client, keepalive_s=0.03) as (_, server, account):
        await eventually(lambda: len(server.connections) == 2)
        assert server.paths == ["/ws/secret-listen-key-1", "/ws/secret-listen-key-2"]
        await eventually(lambda: account.resyncs == 2)


async def test_a_keepalive_failing_otherwise_keeps_the_connection():
    client = FakeClient()
    client.keepalive_error = classify(-1001, "Internal error", 500)
    async with running_stream(client, keepalive_s=0.03) as (_, server, _account):
        await eventually(lambda: client.keepalives >= 3)
        assert len(server.connections) == 1


async def test_listen_key_expired_event_takes_a_new_key():
    client = FakeClient()
    async with running_stream(client) as (_, server, account):
        await eventually(lambda: account.resyncs == 1)
        await server.send({"e": "listenKeyExpired", "E": 1, "listenKey": "secret-listen-key-1"})
        await eventually(lambda: len(server.connections) == 2 and account.resyncs == 2)
        assert server.paths[-1] == "/ws/secret-listen-key-2"


async def test_proactive_reconnect_before_the_connection_age_limit():
    client = FakeClient()
    async with running_stream(client, max_connection_age_s=0.1) as (_, server, account):
        await eventually(lambda: len(server.connections) >= 3 and account.resyncs >= 3)


async def test_exchange_without_listen_key_endpoint_makes_run_return_once():
    client = FakeClient()
    client.new_key_error = classify(0, "Not Found", 404)
    account = Account()
    stream = UserStream(client, "ws://127.0.0.1:9", account.on_event, account.on_reconnect)
    with capture_logs() as logs:
        await asyncio.wait_for(stream.run(), 1.0)
        await asyncio.wait_for(stream.run(), 1.0)
    assert [e["event"] for e in logs] == ["user_stream_unavailable"]
    assert account.resyncs == 0 and not stream.connected


async def test_capability_known_missing_means_no_listen_key_request():
    client = FakeClient(user_stream=Support.MISSING)
    account = Account()
    stream = UserStream(client, "ws://127.0.0.1:9", account.on_event, account.on_reconnect)
    with capture_logs() as logs:
        await asyncio.wait_for(stream.run(), 1.0)
    assert client.keys_issued == 0
    assert [e["event"] for e in logs] == ["user_stream_unavailable"]


async def test_a_listen_key_error_is_retried_with_backoff():
    client = FakeClient()
    client.new_key_error = classify(-1001, "Internal error", 500)
    async with running_stream(client) as (stream, server, account):
        await asyncio.sleep(0.1)
        assert not stream.connected and server.connections == []
        client.new_key_error = None
        await eventually(lambda: stream.connected and account.resyncs == 1)


async def test_close_deletes_the_listen_key_on_the_exchange(sandbox):
    """Against the sandbox: after stop, the key the stream used is dead (a keepalive is refused
    with -1125) instead of staying valid for up to an hour."""
    key, secret = await mint(sandbox, "stopping")
    client = ExchangeClient(
        sandbox.base_url, key, secret, account="stopping", governor=WeightGovernor()
    )
    account = Account()
    stream = UserStream(client, sandbox.ws_url, account.on_event, account.on_reconnect)
    task = asyncio.create_task(stream.run())
    try:
        await eventually(lambda: stream.connected and account.resyncs == 1, within=5.0)
        await client.keepalive_listen_key()  # alive while the stream runs
        with capture_logs() as logs:
            await stream.close()
        await asyncio.wait_for(task, 3.0)
        with pytest.raises(RejectedError) as gone:
            await client.keepalive_listen_key()
        assert gone.value.code == -1125
        assert "listen_key_closed" in [e["event"] for e in logs]
    finally:
        await client.aclose()


async def test_close_is_bounded_when_the_exchange_does_not_answer_the_delete():
    client = FakeClient()
    client.close_hangs = True
    async with running_stream(client, close_timeout_s=0.2) as (stream, _, account):
        await eventually(lambda: stream.connected and account.resyncs == 1)
        with capture_logs() as logs:
            started = time.monotonic()
            await stream.close()
            elapsed = time.monotonic() - started
    assert elapsed < 1.5  # the close handshake and the DELETE, 0.2 s each; slack for a busy box
    assert [e["event"] for e in logs if "listen_key" in e["event"]] == ["listen_key_close_failed"]
    assert "secret-listen-key" not in repr(logs)


async def test_close_deletes_the_key_once_and_only_a_key_it_holds():
    client = FakeClient()
    async with running_stream(client) as (stream, _, account):
        await eventually(lambda: stream.connected and account.resyncs == 1)
        await stream.close()
        await stream.close()
    assert client.keys_closed == 1
    never_connected = FakeClient()
    idle = UserStream(
        never_connected, "ws://127.0.0.1:9", Account().on_event, Account().on_reconnect
    )
    await idle.close()  # never had a key: nothing to delete
    assert never_connected.keys_closed == 0


async def test_an_invalid_stream_url_is_raised_without_the_key():
    """A configuration error is not retried forever; its message carries the URL, so the key is
    scrubbed from it before the supervisor logs it."""
    client = FakeClient()
    account = Account()
    stream = UserStream(client, "https://127.0.0.1:9", account.on_event, account.on_reconnect)
    with pytest.raises(InvalidURI) as info:
        await asyncio.wait_for(stream.run(), 2.0)
    assert "secret-listen-key" not in str(info.value) and "<listenKey>" in str(info.value)


async def test_the_fleet_stop_leaves_no_listen_key_alive(sandbox, tmp_path):
    """End to end: the fleet closes each user stream before its client, so every account's
    listenKey is deleted on the exchange when the daemon stops."""
    async with running_fleet(sandbox, tmp_path, ids=["mm-anchor", "taker-1"]) as handle:
        streams = [unit.upkeep.stream for unit in handle.fleet.units]
        await eventually(lambda: all(s is not None and s.connected for s in streams), within=5.0)
        await handle.stop_and_wait()
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        for account in load_keys(handle.keys_path).accounts:
            reply = await http.put("/fapi/v1/listenKey", headers={"X-MBX-APIKEY": account.key})
            assert reply.json()["code"] == -1125, account.account_id  # no live key
