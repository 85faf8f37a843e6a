"""Websocket fan-out in Binance's market-stream dialect, shared by the reference feed and the venue.

Why a hand-rolled fan-out: clients pointed at the sandbox must see exactly what fstream.binance.com
sends, and whoever publishes (the price driver, the venue's market publisher) must never wait on a
socket.

- What a stream *is* belongs to the owner: the hub is given `canonical(raw) -> name | None`, which
  spells a requested stream the way Binance lists it, or refuses it. A refused name in a
  SUBSCRIBE is an error reply (a client learns at once instead of waiting on silence); one in the
  URL is ignored, as Binance does with a name it has no data for.
- Raw connections (`/ws/<stream>[/<stream>…]`) get bare payloads, combined ones
  (`/stream?streams=a/b`) get `{"stream": name, "data": payload}`; `SET_PROPERTY combined`
  switches a connection between the two. Routing is the app's job; `handle()` receives the
  stream list and the mode.
- Control messages: SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY and GET_PROPERTY
  with Binance's replies (`{"result":null,"id":1}`) and error shape
  (`{"error":{"code":2,"msg":"..."},"id":1}`). Binance's limits on incoming message rate, stream
  count and connection age are not enforced.
- `publish(name, raw)` serialises the combined wrapper at most once and appends to every
  subscriber's bounded queue; one sender task per connection writes it out. A consumer that falls
  `QUEUE_LIMIT` messages behind loses its *oldest* messages (the newest supersede them for
  tickers; a depth-diff client sees the `pu` gap and resyncs, as after any loss), and a
  connection that has stopped reading is ended by the server's keepalive pings anyway. Control
  replies are never dropped and go first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import structlog
from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocketDisconnect

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

log = structlog.get_logger()

QUEUE_LIMIT = 512
DROP_CLOSE_CODE = 1001  # "going away": what a client sees on the feed_drop fault
_DROP_WAIT_S = 2.0
_METHODS = "SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY"
# Whatever the transport can raise once the peer is gone.
_GONE = (WebSocketDisconnect, OSError, RuntimeError)


class _Connection:
    """One websocket: its subscriptions, its outgoing queue and its sender's wake-up."""

    __slots__ = ("close_code", "combined", "dropped", "gone", "messages", "replies", "streams",
                 "waiter", "websocket")  # fmt: skip

    def __init__(self, websocket: WebSocket, combined: bool) -> None:
        self.websocket = websocket
        self.combined = combined
        self.streams: dict[str, None] = {}  # insertion-ordered set, as LIST_SUBSCRIPTIONS shows it
        self.messages: deque[str] = deque(maxlen=QUEUE_LIMIT)
        self.replies: deque[str] = deque()
        self.dropped = 0
        self.close_code: int | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.gone = asyncio.Event()

    def push(self, message: str) -> None:
        messages = self.messages
        if len(messages) == QUEUE_LIMIT:
            self.dropped += 1
        messages.append(message)
        self._wake()

    def reply(self, message: str) -> None:
        self.replies.append(message)
        self._wake()

    def request_close(self, code: int) -> None:
        self.close_code = code
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def send_forever(self) -> None:
        loop = asyncio.get_running_loop()
        websocket = self.websocket
        with contextlib.suppress(*_GONE):
            while True:
                if self.close_code is not None:
                    await websocket.close(self.close_code, "feed dropped")
                    return
                if self.replies:
                    await websocket.send_text(self.replies.popleft())
                elif self.messages:
                    await websocket.send_text(self.messages.popleft())
                else:
                    self.waiter = loop.create_future()
                    await self.waiter


class StreamHub:
    """Every websocket of one stream family; `publish()` never blocks."""

    def __init__(
        self,
        canonical: Callable[[str], str | None],
        name: str = "market",
        on_first: Callable[[str], None] | None = None,
    ) -> None:
        self._canonical = canonical
        self._name = name
        self._on_first = on_first  # told when a stream gets its first subscriber
        self._connections: set[_Connection] = set()
        self._subscribers: dict[str, set[_Connection]] = {}
        self.refuse_new = False

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def wanted(self) -> Iterable[str]:
        """Stream names with at least one subscriber (publishers build only these)."""
        return self._subscribers.keys()

    def has_subscribers(self, stream: str) -> bool:
        return stream in self._subscribers

    def publish(self, stream: str, raw: str) -> None:
        """Queue `raw` (one JSON payload) for every subscriber of `stream`."""
        subscribers = self._subscribers.get(stream)
        if not subscribers:
            return
        wrapped = None
        for connection in subscribers:
            if connection.combined:
                if wrapped is None:
                    wrapped = f'{{"stream":"{stream}","data":{raw}}}'
                connection.push(wrapped)
            else:
                connection.push(raw)

    async def handle(
        self, websocket: WebSocket, path_streams: list[str] | None, combined: bool
    ) -> None:
        """Serve one websocket until the client goes (or drop_all ends it)."""
        if self.refuse_new:
            # 503 before the upgrade: clients' reconnect loops treat it as transient.
            log.info(f"{self._name}_client_refused", client=_peer(websocket))
            with contextlib.suppress(*_GONE):
                try:
                    await websocket.send_denial_response(
                        PlainTextResponse("market data unavailable", status_code=503)
                    )
                except RuntimeError:  # a server without the denial-response extension
                    await websocket.accept()
                    await websocket.close(1013, "try again later")
            return
        try:
            await websocket.accept()
        except _GONE:
            return
        connection = _Connection(websocket, combined)
        for part in path_streams or ():
            for raw in part.split("/"):
                name = self._canonical(raw)
                if name is not None:
                    self._subscribe(connection, name)
        self._connections.add(connection)
        sender = asyncio.create_task(connection.send_forever(), name=f"{self._name}_sender")
        log.info(
            f"{self._name}_client_connected",
            client=_peer(websocket),
            streams=list(connection.streams),
            combined=combined,
        )
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                connection.reply(self._control(connection, text))
        except _GONE:
            pass
        finally:
            for name in list(connection.streams):
                self._unsubscribe(connection, name)
            self._connections.discard(connection)
            sender.cancel()
            await asyncio.wait([sender])  # unlike `await sender`, keeps our own cancellation
            connection.gone.set()
            log.info(
                f"{self._name}_client_gone", client=_peer(websocket), dropped=connection.dropped
            )

    async def drop_all(self) -> None:
        """Close every websocket now (the feed_drop fault); returns once they are gone."""
        connections = list(self._connections)
        log.warning(f"{self._name}_feed_dropped", connections=len(connections))
        for connection in connections:
            connection.request_close(DROP_CLOSE_CODE)
        if connections:
            waits = [asyncio.create_task(c.gone.wait()) for c in connections]
            _, pending = await asyncio.wait(waits, timeout=_DROP_WAIT_S)
            for wait in pending:
                wait.cancel()

    # -- control messages ----------------------------------------------------------------

    def _control(self, connection: _Connection, text: str) -> str:
        try:
            request = json.loads(text)
        except ValueError as exc:
            return _error(3, f"Invalid JSON: {exc}", None)
        if not isinstance(request, dict):
            return _error(2, "Invalid request: expected a JSON object", None)
        request_id = request.get("id")
        method = request.get("method")
        params = request.get("params") or []
        if not isinstance(params, list):
            return _error(2, "Invalid request: params must be an array", request_id)
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            names = [self._canonical(p) if isinstance(p, str) else None for p in params]
            bad = [p for p, name in zip(params, names, strict=True) if name is None]
            if bad:
                return _error(2, f"Invalid request: unknown stream name {bad[0]!r}", request_id)
            change = self._subscribe if method == "SUBSCRIBE" else self._unsubscribe
            for name in names:
                assert name is not None
                change(connection, name)
            return _result(None, request_id)
        if method == "LIST_SUBSCRIPTIONS":
            return _result(list(connection.streams), request_id)
        if method in ("SET_PROPERTY", "GET_PROPERTY"):
            if not params or not isinstance(params[0], str):
                return _error(2, "Invalid request: property name must be a string", request_id)
            if params[0] != "combined":
                return _error(0, "Unknown property", request_id)
            if method == "GET_PROPERTY":
                return _result(connection.combined, request_id)
            if len(params) < 2 or not isinstance(params[1], bool):
                return _error(1, "Invalid value type: expected Boolean", request_id)
            connection.combined = params[1]
            return _result(None, request_id)
        if method is None:
            return _error(2, "Invalid request: missing field `method`", request_id)
        unknown = f"Invalid request: unknown variant `{method}`, expected one of {_METHODS}"
        return _error(2, unknown, request_id)

    def _subscribe(self, connection: _Connection, name: str) -> None:
        connection.streams[name] = None
        subscribers = self._subscribers.get(name)
        if subscribers is None:
            subscribers = self._subscribers[name] = set()
            if self._on_first is not None:
                self._on_first(name)
        subscribers.add(connection)

    def _unsubscribe(self, connection: _Connection, name: str) -> None:
        connection.streams.pop(name, None)
        subscribers = self._subscribers.get(name)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del self._subscribers[name]


def _result(result: Any, request_id: Any) -> str:
    return json.dumps({"result": result, "id": request_id}, separators=(",", ":"))


def _error(code: int, msg: str, request_id: Any) -> str:
    return json.dumps(
        {"error": {"code": code, "msg": msg}, "id": request_id}, separators=(",", ":")
    )


def _peer(websocket: WebSocket) -> str | None:
    client = websocket.client
    return f"{client.host}:{client.port}" if client else None
