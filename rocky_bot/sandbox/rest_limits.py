"""Rolling-window counters behind Binance's rate-limit headers and 429s.

Request weight is counted per client IP over a rolling minute (`X-MBX-USED-WEIGHT-1M`), new
orders per account over 10 s and 1 min (`X-MBX-ORDER-COUNT-10S` / `-1M`). Counts are kept in
one-second buckets, so each request costs O(1) amortized however busy the window is.

Bans, as Binance describes them ("repeatedly violating rate limits and/or failing to back off
after receiving 429s will result in an automated IP ban (HTTP status 418)... from 2 minutes to
3 days"): a 429 tells the IP to wait `Retry-After` seconds; an IP that sends `BAN_STRIKES` more
requests inside that wait is banned, 2 minutes the first time, doubling for a repeat offender up
to 3 days. The strikes forgive the requests a busy client already had in flight when the 429
arrived, not one that keeps polling.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


class RollingCount:
    """Σ of amounts added in the last `window_s` seconds, bucketed per second."""

    __slots__ = ("_buckets", "_total", "window_s")

    def __init__(self, window_s: int) -> None:
        self.window_s = window_s
        self._buckets: deque[list[int]] = deque()  # [second, amount]
        self._total = 0

    def used(self, now_s: int) -> int:
        horizon = now_s - self.window_s
        buckets = self._buckets
        while buckets and buckets[0][0] <= horizon:
            self._total -= buckets.popleft()[1]
        return self._total

    def add(self, now_s: int, amount: int) -> int:
        self.used(now_s)
        if amount:
            if self._buckets and self._buckets[-1][0] == now_s:
                self._buckets[-1][1] += amount
            else:
                self._buckets.append([now_s, amount])
            self._total += amount
        return self._total

    def retry_after_s(self, now_s: int) -> int:
        """Seconds until the oldest counted second leaves the window (at least 1)."""
        if not self._buckets:
            return 1
        return max(1, self._buckets[0][0] + self.window_s - now_s)


BAN_STRIKES = 10
BAN_FIRST_S = 120
BAN_LONGEST_S = 3 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Verdict:
    admitted: bool
    used: int  # weight used in the rolling minute
    retry_after_s: int = 0
    banned_until_ms: int | None = None  # set: answer 418, not 429


class _Ip:
    __slots__ = ("banned_until_s", "bans", "counter", "strikes", "wait_until_s")

    def __init__(self) -> None:
        self.counter = RollingCount(60)
        self.wait_until_s = 0  # the Retry-After of the last 429 runs until here
        self.strikes = 0
        self.bans = 0
        self.banned_until_s = 0


#: IPs tracked before idle ones (nothing in the window, not banned) are forgotten: a sandbox
#: reachable by many clients over weeks must not keep one entry per address it ever saw.
MAX_TRACKED_IPS = 1024


class WeightMeter:
    """Request weight per client IP over a rolling minute, and the bans of those that ignore 429."""

    def __init__(self, limit_per_min: int, max_tracked: int = MAX_TRACKED_IPS) -> None:
        self.limit = limit_per_min
        self.max_tracked = max_tracked
        self._per_ip: dict[str, _Ip] = {}

    def tracked(self) -> int:
        return len(self._per_ip)

    def _sweep(self, now_s: int) -> None:
        idle = [
            ip for ip, st in self._per_ip.items()
            if st.counter.used(now_s) == 0 and now_s >= st.banned_until_s
            and now_s >= st.wait_until_s
        ]  # fmt: skip
        for ip in idle:
            del self._per_ip[ip]

    def admit(self, ip: str, weight: int, now_ms: int) -> Verdict:
        """Count `weight` unless it would pass the limit (or the IP is banned).

        A refused request is not counted, so a client that waits Retry-After gets back in.
        """
        now_s = now_ms // 1000
        state = self._per_ip.get(ip)
        if state is None:
            if len(self._per_ip) >= self.max_tracked:
                self._sweep(now_s)
            state = self._per_ip[ip] = _Ip()
        used = state.counter.used(now_s)
        if now_s < state.banned_until_s:
            return Verdict(False, used, state.banned_until_s - now_s, state.banned_until_s * 1000)
        if used + weight <= self.limit:
            return Verdict(True, state.counter.add(now_s, weight))
        retry = state.counter.retry_after_s(now_s)
        if now_s < state.wait_until_s:
            state.strikes += 1
            if state.strikes >= BAN_STRIKES:
                state.bans += 1
                length = min(BAN_FIRST_S * 2 ** (state.bans - 1), BAN_LONGEST_S)
                state.banned_until_s, state.strikes = now_s + length, 0
                return Verdict(False, used, length, state.banned_until_s * 1000)
        else:
            state.wait_until_s, state.strikes = now_s + retry, 0
        return Verdict(False, used, retry)


class OrderCounter:
    """New orders per account over 10 s and 1 min (Binance's ORDERS rate limits)."""

    def __init__(self, limit_10s: int, limit_1m: int) -> None:
        self.limits = (limit_10s, limit_1m)
        self._per_account: dict[str, tuple[RollingCount, RollingCount]] = {}

    def admit(
        self, account: str, count_10s: int, count_1m: int, now_ms: int
    ) -> tuple[bool, int, int, int]:
        """→ (admitted, used_10s, used_1m, retry_after_s); refused orders are not counted.

        The two windows take different counts because Binance charges a batch of 5 as 5 on the
        10-second limit but 1 on the minute limit.
        """
        pair = self._per_account.get(account)
        if pair is None:
            pair = self._per_account[account] = (RollingCount(10), RollingCount(60))
        now_s = now_ms // 1000
        short, long = pair
        used_short, used_long = short.used(now_s), long.used(now_s)
        if used_short + count_10s > self.limits[0]:
            return False, used_short, used_long, short.retry_after_s(now_s)
        if used_long + count_1m > self.limits[1]:
            return False, used_short, used_long, long.retry_after_s(now_s)
        return True, short.add(now_s, count_10s), long.add(now_s, count_1m), 0
