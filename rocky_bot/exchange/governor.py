"""Request-weight governor shared by every account's client.

Binance counts request weight per IP, and all accounts of the fleet share one IP, so one governor
sees every `X-MBX-USED-WEIGHT-1M` header, tells loops when to skip non-essential polls (above 80 %
of the limit), and holds the pauses that 429 (one client) and 418 (every client: the IP is banned)
impose.

It also keeps its own count of the fleet's last minute, from the weight table
(`rocky_bot.binance_api.weights`) with every order action counted at 1: Rocky does not publish
what it charges for orders, so the budget is planned pessimistically (DESIGN.md §7). Optional
polls go by the larger of the two readings.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()

#: A weight reading older than the window it counts says nothing about the current minute.
_WINDOW_S = 60.0


class WeightGovernor:
    def __init__(
        self,
        limit_per_min: int = 2400,
        optional_share: float = 0.8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit_per_min <= 0 or not 0.0 < optional_share <= 1.0:
            raise ValueError("limit_per_min must be > 0 and optional_share in (0, 1]")
        self.limit_per_min = limit_per_min
        self.optional_share = optional_share
        self._clock = clock
        self._used = 0
        self._seen_at = float("-inf")
        self._all_paused_until = float("-inf")
        self._paused_until: dict[str, float] = {}
        self._sent: deque[tuple[float, int]] = deque()  # (time, weight at 1) of our requests
        self._sent_total = 0

    @property
    def used_weight(self) -> int:
        """The last reported weight of the current minute (0 once that reading is a minute old)."""
        if self._clock() - self._seen_at >= _WINDOW_S:
            return 0
        return self._used

    @property
    def planned_weight(self) -> int:
        """Our own requests of the last minute, order actions at 1 (the pessimistic count)."""
        self._forget_before(self._clock() - _WINDOW_S)
        return self._sent_total

    def held(self) -> int:
        """Our requests remembered (for the steady-state tests: one minute's, at most)."""
        return len(self._sent)

    def note_sent(self, weight_at_1: int) -> None:
        """Count one of our requests (its table weight, order actions at 1)."""
        if weight_at_1 > 0:
            now = self._clock()
            self._forget_before(now - _WINDOW_S)
            self._sent.append((now, weight_at_1))
            self._sent_total += weight_at_1

    def _forget_before(self, horizon: float) -> None:
        """Drop requests older than the window. Done on every request too, not only when the
        count is read (a poll every few seconds to minutes): the deque then holds one minute of
        requests, not as many minutes as pass between reads."""
        sent = self._sent
        while sent and sent[0][0] <= horizon:
            self._sent_total -= sent.popleft()[1]

    def observe(self, used_weight_1m: int) -> None:
        """Record the exchange's count from a reply header (the latest reply wins)."""
        if used_weight_1m < 0:
            return
        self._used = used_weight_1m
        self._seen_at = self._clock()

    def allow_optional(self) -> bool:
        """False once the IP has used more than `optional_share` of its limit this minute, by the
        exchange's count or by our own pessimistic one."""
        used = max(self.used_weight, self.planned_weight)
        return used <= self.optional_share * self.limit_per_min

    def pause(self, seconds: float, *, client_id: str | None) -> None:
        """Hold one client (429) or, with `client_id=None`, every client (418) for `seconds`.

        Pauses only ever extend: a shorter Retry-After never cuts a longer ban short.
        """
        until = self._clock() + max(0.0, seconds)
        if client_id is None:
            self._all_paused_until = max(self._all_paused_until, until)
        else:
            self._paused_until[client_id] = max(self._paused_until.get(client_id, until), until)
        log.warning("requests_paused", account=client_id or "*", seconds=round(seconds, 3))

    def paused_for(self, client_id: str) -> float:
        """Seconds until `client_id` may send again (0.0 when it may send now)."""
        until = max(self._all_paused_until, self._paused_until.get(client_id, float("-inf")))
        return max(0.0, until - self._clock())

    async def wait_ready(
        self,
        client_id: str,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """Return when `client_id` may send; re-checks after each sleep since pauses can extend."""
        while (left := self.paused_for(client_id)) > 0:
            await sleep(left)
