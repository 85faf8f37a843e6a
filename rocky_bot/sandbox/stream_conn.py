"""One market-stream websocket as the hub sees it: subscriptions, bounded queues, one sender.

Apart from the hub (stream_hub.py) so the bounds on what one client can make the sandbox hold
read in one place (the numbers are in ws_limits.py):

- market messages: at most `QUEUE_LIMIT`; a consumer that falls behind loses its *oldest*
  (the newest supersede them for tickers; a depth-diff client sees the `pu` gap and resyncs);
- control replies: never dropped and sent first, but at most `MAX_PENDING_REPLY_BYTES` may wait
  for a client that does not read them; past that the connection is closed (1008);
- incoming messages: at most `MAX_MESSAGES_PER_S` a second (`MessageRate`), as on Binance.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TYPE_CHECKING

from starlette.websockets import WebSocketDisconnect

from rocky_bot.sandbox.ws_limits import MAX_PENDING_REPLY_BYTES, POLICY_CLOSE, MessageRate

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

QUEUE_LIMIT = 512
#: Whatever the transport can raise once the peer is gone.
GONE = (WebSocketDisconnect, OSError, RuntimeError)


class Connection:
    """One websocket: its subscriptions, its outgoing queues and its sender's wake-up."""

    __slots__ = ("close_code", "close_reason", "combined", "dropped", "gone", "messages",
                 "rate", "replies", "reply_bytes", "streams", "waiter", "websocket")  # fmt: skip

    def __init__(self, websocket: WebSocket, combined: bool) -> None:
        self.websocket = websocket
        self.combined = combined
        self.streams: dict[str, None] = {}  # insertion-ordered set, as LIST_SUBSCRIPTIONS shows it
        self.messages: deque[str] = deque(maxlen=QUEUE_LIMIT)
        self.replies: deque[str] = deque()
        self.reply_bytes = 0
        self.rate = MessageRate()
        self.dropped = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self.waiter: asyncio.Future[None] | None = None
        self.gone = asyncio.Event()

    def push(self, message: str) -> None:
        messages = self.messages
        if len(messages) == QUEUE_LIMIT:
            self.dropped += 1
        messages.append(message)
        self._wake()

    def reply(self, message: str) -> None:
        """Queue a control reply; a client that lets them pile up is closed instead."""
        if self.reply_bytes + len(message) > MAX_PENDING_REPLY_BYTES:
            self.request_close(POLICY_CLOSE, "too many unread replies")
            return
        self.replies.append(message)
        self.reply_bytes += len(message)
        self._wake()

    def request_close(self, code: int, reason: str = "") -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
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
        with contextlib.suppress(*GONE):
            while True:
                if self.close_code is not None:
                    await websocket.close(self.close_code, self.close_reason)
                    return
                if self.replies:
                    reply = self.replies.popleft()
                    self.reply_bytes -= len(reply)
                    await websocket.send_text(reply)
                elif self.messages:
                    await websocket.send_text(self.messages.popleft())
                else:
                    self.waiter = loop.create_future()
                    await self.waiter
