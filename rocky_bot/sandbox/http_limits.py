"""How much one HTTP request may make the sandbox hold, bounded before any endpoint sees it.

The sandbox listens on a port users point their own bots at; whatever a client sends, the
memory it costs is bounded here (the websocket side is bounded in ws_limits.py):

- **Bodies** (`BodyLimit`, ASGI middleware): over `MAX_BODY_BYTES` → 413 with a Binance error
  body (-1101), *before the body is read*: at once when `Content-Length` declares it (the
  server buffers at most its flow-control window meanwhile), or as soon as a chunked body
  passes the cap. The largest real request, a 5-order batch, is ~2 KB.
- **Request line and headers** (`BoundedHttpTools`): uvicorn's httptools protocol appends the
  URL and the headers without a bound (a 20 MB URL is 20 MB held, and copied on each chunk).
  Past `MAX_HEAD_BYTES` (or `MAX_HEADERS` headers) it answers 400 and closes the connection,
  while the client is still sending.
- **Connections**: `MAX_CONCURRENCY` (uvicorn's `limit_concurrency`) bounds open connections
  and requests in flight for the whole server; past it uvicorn answers 503. A 30-account
  daemon holds ~270 (8 pooled HTTP connections per account and 31 websockets).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_BODY_BYTES = 1 << 20
#: Request line and headers together (the official SDK signs everything in the query: ~2 KB).
MAX_HEAD_BYTES = 64 << 10
MAX_HEADERS = 100
MAX_CONCURRENCY = 1000
TOO_LARGE_CODE = -1101  # Binance's "too many parameters": the nearest it has to "too much"


class RequestTooLarge(Exception):
    """Raised inside a parser callback: httptools turns it into a parse error (→ 400)."""


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the request line and the headers bounded.

    Counted as bytes received while a request's head is incomplete (httptools also buffers a
    partial header value itself, out of reach of the per-header callback), checked after each
    read: at most `MAX_HEAD_BYTES` plus one read's worth is ever held.
    """

    _in_head = True
    _head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADERS:
            raise RequestTooLarge("headers")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self.send_400_response("Invalid HTTP request received: head too large.")


async def too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {"code": TOO_LARGE_CODE, "msg": f"Request body over the {limit}-byte limit."},
        separators=(",", ":"),
    ).encode()
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # the unread body is not waited for
        ],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Pure ASGI middleware: 413 for a body over `max_bytes`, before the app reads any of it."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = None, False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await too_large(send, self.max_bytes)
            return
        if not chunked:  # the server enforces a declared length; no body otherwise
            await self.app(scope, receive, send)
            return
        # No length given: read up to the cap (bounded memory), then hand the app the whole.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await too_large(send, self.max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replay_body(b"".join(chunks), receive), send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """The body, already read, in one message, then whatever the connection says next (a
    disconnect): what an ASGI app downstream of a body reader receives."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
