"""StreamHub against a client that sends and never reads: its memory stays bounded.

A real socket cannot show it in a test (the kernel's buffers swallow megabytes first), so the
client here is a fake at the transport: `send_text` blocks until the client starts reading,
exactly what a full socket does to the server's sender.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from rocky_bot.sandbox.reference import stream_name
from rocky_bot.sandbox.stream_hub import StreamHub
from rocky_bot.sandbox.ws_limits import MAX_PENDING_REPLY_BYTES, MAX_STREAMS


class NeverReads:
    """A websocket client: what it will send, queued up front; it reads nothing until `read()`."""

    def __init__(self, messages: list[str]) -> None:
        self.client = SimpleNamespace(host="127.0.0.1", port=5)
        self.inbox: asyncio.Queue[dict] = asyncio.Queue()
        for text in messages:
            self.inbox.put_nowait({"type": "websocket.receive", "text": text})
        self.reading = asyncio.Event()
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.received = 0

    async def accept(self) -> None:
        return None

    async def receive(self) -> dict:
        message = await self.inbox.get()
        self.received += 1
        return message

    async def send_text(self, text: str) -> None:
        await self.reading.wait()  # a full socket: the server's send waits
        self.sent.append(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.reading.wait()
        self.closed = (code, reason)
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": code})


def control(method: str, params: list | None = None, request_id: int = 1) -> str:
    return json.dumps({"method": method, "params": params or [], "id": request_id})


async def test_a_client_that_never_reads_its_replies_is_closed_1008_not_queued_for():
    # 200 long stream names: each LIST_SUBSCRIPTIONS reply is ~13 KB
    names = [f"{'x' * 40}{i:03d}usdt@bookTicker" for i in range(MAX_STREAMS)]
    lists = [control("LIST_SUBSCRIPTIONS", request_id=i) for i in range(2, 9)]  # 7: < 10/s
    client = NeverReads([control("SUBSCRIBE", names), *lists])
    # ...and then a flood it would go on sending if the server kept reading
    for i in range(10_000):
        client.inbox.put_nowait({"type": "websocket.receive", "text": control("X", None, i)})
    hub = StreamHub(stream_name, name="test")
    served = asyncio.create_task(hub.handle(client, None, True))
    await asyncio.sleep(0.2)
    assert client.received <= 1 + len(lists)  # it stopped reading at the bound
    asyncio.get_running_loop().call_later(0.1, client.reading.set)  # it reads, at last
    await asyncio.wait_for(served, 3)
    assert client.closed == (1008, "too many unread replies")
    # what it got: at most the one reply in flight, never the pile
    assert sum(len(text) for text in client.sent) <= MAX_PENDING_REPLY_BYTES
    assert hub.connection_count == 0 and not list(hub.wanted())


async def test_ten_messages_a_second_is_the_most_a_connection_may_send():
    client = NeverReads([control("LIST_SUBSCRIPTIONS", request_id=i) for i in range(11)])
    client.reading.set()
    hub = StreamHub(stream_name, name="test")
    await asyncio.wait_for(hub.handle(client, None, True), 3)
    assert client.closed == (1008, "too many messages")
    assert client.received == 11 and len(client.sent) <= 10  # the 11th was never answered


_names = st.sampled_from(
    ["btcusdt@bookTicker", "BTCUSDT@BOOKTICKER", "x" * 70 + "@bookTicker", "btcusdt", "!bookTicker",
     "", "é@bookTicker", "a/b@bookTicker"]
) | st.text(max_size=10)  # fmt: skip
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _names,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=4), kids, max_size=3)
    ),
    max_leaves=8,
)
_controls = st.one_of(
    st.fixed_dictionaries(
        {"method": st.sampled_from(["SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS",
                                    "SET_PROPERTY", "GET_PROPERTY", "X"]) | _json,
         "params": st.lists(_names | _json, max_size=4) | _json, "id": _json}
    ).map(json.dumps),
    _json.map(json.dumps),
    st.text(max_size=20),
    st.integers(1, 3).map(lambda k: "[" * (2000 * k) + "]" * (2000 * k)),
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(messages=st.lists(_controls, max_size=9))
async def test_any_control_message_gets_a_reply_and_the_hub_forgets_the_client(messages):
    """Every message answered (a crash in the handler used to pass for the client leaving:
    RecursionError is a RuntimeError), each reply short, nothing left behind."""
    client = NeverReads(messages)
    client.reading.set()
    hub = StreamHub(stream_name, name="test")
    served = asyncio.create_task(hub.handle(client, None, True))
    for _ in range(200):
        if len(client.sent) == len(messages) or served.done():
            break
        await asyncio.sleep(0.005)
    assert not served.done(), "the connection ended on its own"
    assert len(client.sent) == len(messages)
    client.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(served, 3)
    for text in client.sent:
        reply = json.loads(text)
        assert set(reply) in ({"result", "id"}, {"error", "id"})
        assert len(text) < 2000
    assert hub.connection_count == 0 and not list(hub.wanted())
