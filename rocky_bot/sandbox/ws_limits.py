"""What one websocket client may make the sandbox hold, and how many a client IP may open.

Binance's published limits for its market streams, taken as the sandbox's own where they bound
memory or work, and the caps it does not publish, chosen here (and why):

- `MAX_STREAMS` 200 streams per connection (Binance's). A SUBSCRIBE past it is an error reply;
  a URL naming more is refused before the handshake (HTTP 400).
- `MAX_MESSAGES_PER_S` 10 incoming messages per second per connection (Binance's: it
  disconnects past it). Here: closed with 1008.
- `MAX_MESSAGE_BYTES` 64 KiB per incoming message (uvicorn closes with 1009 past it; its
  default is 16 MiB). A SUBSCRIBE of 200 names is ~6 KB.
- `MAX_PENDING_REPLY_BYTES` 64 KiB of control replies waiting for a client that does not read
  them: closed with 1008 rather than queued without end (market messages are a bounded queue
  that drops its oldest; user data events close the socket past their own bound).
- `MAX_NEW_PER_IP` 300 new connections per `NEW_WINDOW_S` (5 min) per IP (Binance's), and
  `MAX_OPEN_PER_IP` 300 open at once per IP (not published by Binance; a 30-account daemon
  opens 31, and every connection costs at most the bounds above). Past either, the handshake
  is refused with HTTP 429.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_STREAMS = 200
MAX_STREAM_NAME = 64  # longer is no stream name (`btcusdt@depth20@100ms` is 21)
MAX_MESSAGES_PER_S = 10
MAX_MESSAGE_BYTES = 64 << 10
MAX_PENDING_REPLY_BYTES = 64 << 10
MAX_NEW_PER_IP = 300
MAX_OPEN_PER_IP = 300
NEW_WINDOW_S = 300.0
#: IPs tracked before those with nothing open and nothing begun in the window are forgotten.
MAX_TRACKED_IPS = 1024
POLICY_CLOSE = 1008


class MessageRate:
    """Incoming messages on one connection: more than `limit` within one second is too many."""

    __slots__ = ("_times", "limit")

    def __init__(self, limit: int = MAX_MESSAGES_PER_S) -> None:
        self.limit = limit
        self._times: deque[float] = deque(maxlen=limit)

    def admit(self, now: float) -> bool:
        times = self._times
        if len(times) == self.limit and now - times[0] < 1.0:
            return False
        times.append(now)
        return True


class ConnectionGate:
    """Websocket connections per client IP: how many are open, how many began lately."""

    def __init__(
        self,
        max_open: int = MAX_OPEN_PER_IP,
        max_new: int = MAX_NEW_PER_IP,
        window_s: float = NEW_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_open, self.max_new, self.window_s = max_open, max_new, window_s
        self.clock = clock
        self._open: dict[str, int] = {}
        self._began: dict[str, deque[float]] = {}

    def tracked(self) -> int:
        return len(self._began)

    def _sweep(self, now: float) -> None:
        """Forget IPs with nothing open and no connection begun within the window (a closed
        connection's start is kept for the window, so without this each address stays)."""
        for ip in [ip for ip, b in self._began.items() if ip not in self._open]:
            began = self._began[ip]
            if not began or began[-1] <= now - self.window_s:
                del self._began[ip]

    def admit(self, ip: str) -> str | None:
        """Count a new connection from `ip`; the reason it is refused, or None if admitted."""
        now = self.clock()
        if ip not in self._began and len(self._began) >= MAX_TRACKED_IPS:
            self._sweep(now)
        began = self._began.setdefault(ip, deque())
        while began and began[0] <= now - self.window_s:
            began.popleft()
        if self._open.get(ip, 0) >= self.max_open:
            return f"too many open connections from this IP (at most {self.max_open})"
        if len(began) >= self.max_new:
            per = f"{self.max_new} per {self.window_s / 60:g} min"
            return f"too many new connections from this IP (at most {per})"
        began.append(now)
        self._open[ip] = self._open.get(ip, 0) + 1
        return None

    def release(self, ip: str) -> None:
        left = self._open.get(ip, 0) - 1
        if left > 0:
            self._open[ip] = left
        else:
            self._open.pop(ip, None)
            if not self._began.get(ip):
                self._began.pop(ip, None)

    def open_count(self, ip: str) -> int:
        return self._open.get(ip, 0)
