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
  (`{"error":{"code":2,"msg":"..."},"id":1}`). Binance's limits are enforced (ws_limits.py):
  200 streams per connection, 10 incoming messages a second (closed with 1008 past it); its
  24 h connection age is not. Nothing a client sends is echoed back at length.
- `publish(name, raw)` serialises the combined wrapper at most once and appends to every
  subscriber's bounded queue; one sender task per connection writes it out (stream_conn.py:
  market messages drop their oldest past `QUEUE_LIMIT`, unread control replies past their
  bound close the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import structlog
from starlette.responses import PlainTextResponse

from rocky_bot.sandbox.stream_conn import GONE, Connection
from rocky_bot.sandbox.ws_limits import MAX_STREAM_NAME, MAX_STREAMS, POLICY_CLOSE

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

log = structlog.get_logger()

DROP_CLOSE_CODE = 1001  # "going away": what a client sees on the feed_drop fault
_DROP_WAIT_S = 2.0
_CLOSE_WAIT_S = 1.0  # for a close we decided on to go out, before the connection is let go
_METHODS = "SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY"


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
        self._connections: set[Connection] = set()
        self._subscribers: dict[str, set[Connection]] = {}
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
            await deny(websocket, 503, "market data unavailable")
            return
        asked = [raw for part in path_streams or () for raw in part.split("/")]
        if len(asked) > MAX_STREAMS:
            await deny(websocket, 400, f"at most {MAX_STREAMS} streams per connection")
            return
        try:
            await websocket.accept()
        except GONE:
            return
        connection = Connection(websocket, combined)
        for raw in asked:
            name = self._name_of(raw)
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
        loop = asyncio.get_running_loop()
        try:
            while connection.close_code is None:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if not connection.rate.admit(loop.time()):
                    connection.request_close(POLICY_CLOSE, "too many messages")
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                connection.reply(self._control(connection, text))
        except GONE:
            pass
        finally:
            for name in list(connection.streams):
                self._unsubscribe(connection, name)
            self._connections.discard(connection)
            if connection.close_code is not None:  # ours to send: a bounded wait for it
                await asyncio.wait([sender], timeout=_CLOSE_WAIT_S)
            sender.cancel()
            await asyncio.wait([sender])  # unlike `await sender`, keeps our own cancellation
            connection.gone.set()
            log.info(
                f"{self._name}_client_gone", client=_peer(websocket), dropped=connection.dropped,
                closed=connection.close_reason or None,
            )  # fmt: skip

    async def drop_all(self) -> None:
        """Close every websocket now (the feed_drop fault); returns once they are gone."""
        connections = list(self._connections)
        log.warning(f"{self._name}_feed_dropped", connections=len(connections))
        for connection in connections:
            connection.request_close(DROP_CLOSE_CODE, "feed dropped")
        if connections:
            waits = [asyncio.create_task(c.gone.wait()) for c in connections]
            _, pending = await asyncio.wait(waits, timeout=_DROP_WAIT_S)
            for wait in pending:
                wait.cancel()

    # -- control messages ----------------------------------------------------------------

    def _control(self, connection: Connection, text: str) -> str:
        try:
            request = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested past the parser
            return _error(3, f"Invalid JSON: {str(exc)[:80]}", None)
        if not isinstance(request, dict):
            return _error(2, "Invalid request: expected a JSON object", None)
        request_id = request.get("id")
        if not _is_id(request_id):
            return _error(2, "Invalid request: id must be an integer or a short string", None)
        method = request.get("method")
        params = request.get("params") or []
        if not isinstance(params, list):
            return _error(2, "Invalid request: params must be an array", request_id)
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            names = [self._name_of(p) if isinstance(p, str) else None for p in params]
            bad = [p for p, name in zip(params, names, strict=True) if name is None]
            if bad:
                shown = repr(bad[0])[:MAX_STREAM_NAME]
                return _error(2, f"Invalid request: unknown stream name {shown}", request_id)
            if method == "SUBSCRIBE" and len({*connection.streams, *names}) > MAX_STREAMS:
                too_many = f"Invalid request: at most {MAX_STREAMS} streams per connection"
                return _error(2, too_many, request_id)
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
        shown = str(method)[:32]
        unknown = f"Invalid request: unknown variant `{shown}`, expected one of {_METHODS}"
        return _error(2, unknown, request_id)

    def _name_of(self, raw: str) -> str | None:
        """Binance's spelling of a requested stream, or None (refused)."""
        return None if len(raw) > MAX_STREAM_NAME else self._canonical(raw)

    def _subscribe(self, connection: Connection, name: str) -> None:
        connection.streams[name] = None
        subscribers = self._subscribers.get(name)
        if subscribers is None:
            subscribers = self._subscribers[name] = set()
            if self._on_first is not None:
                self._on_first(name)
        subscribers.add(connection)

    def _unsubscribe(self, connection: Connection, name: str) -> None:
        connection.streams.pop(name, None)
        subscribers = self._subscribers.get(name)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del self._subscribers[name]


def _is_id(value: Any) -> bool:
    """Binance's request ids are integers or strings; an id is echoed, so it is kept short."""
    if value is None:
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) < 2**63
    return isinstance(value, str) and len(value) <= 64


def _result(result: Any, request_id: Any) -> str:
    return json.dumps({"result": result, "id": request_id}, separators=(",", ":"))


def _error(code: int, msg: str, request_id: Any) -> str:
    return json.dumps(
        {"error": {"code": code, "msg": msg}, "id": request_id}, separators=(",", ":")
    )


async def deny(websocket: WebSocket, status: int, text: str) -> None:
    """Refuse the handshake with an HTTP status (clients see why, and 503/429 as transient)."""
    with contextlib.suppress(*GONE):
        try:
            await websocket.send_denial_response(PlainTextResponse(text, status_code=status))
        except RuntimeError:  # a server without the denial-response extension
            await websocket.accept()
            await websocket.close(1013 if status in (429, 503) else POLICY_CLOSE, text[:120])


def _peer(websocket: WebSocket) -> str | None:
    client = websocket.client
    return f"{client.host}:{client.port}" if client else None
