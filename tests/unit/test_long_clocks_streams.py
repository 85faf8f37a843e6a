"""The websockets' long clocks over 7 virtual days: recycling before 24 h, the listenKey's life.

Each test runs a real websocket server and the real client on 127.0.0.1, on one event loop whose
time is virtual (tests/virtual_time.py): a week of 30-minute keepalives and 23-hour recycles
passes in about a second. What users rely on:

- the user data stream never stays down: it is recycled before Binance's 24 h cut, takes a new
  listenKey when the old one expires (`listenKeyExpired`) or a keepalive says it is gone
  (-1125), keeps its key alive every 30 minutes, and re-snapshots after every reconnect;
- the market feed rolls over every 23 h without ever going stale (no gap in quoting).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal
from itertools import pairwise

from websockets.asyncio.server import ServerConnection, serve

from rocky_bot.exchange.capabilities import Capabilities
from rocky_bot.exchange.errors import ApiError
from rocky_bot.exchange.models import AccountUpdate
from rocky_bot.exchange.user_stream import UserStream
from rocky_bot.feed.binance import BinanceFeed, FeedSettings
from tests.virtual_time import run_virtual

DAY = 86400.0
WEEK = 7 * DAY
KEY_TTL = 3600.0  # a listenKey dies 60 minutes after its last keepalive (Binance)


class ListenKeyExchange:
    """Binance's listenKey rules on virtual time, and a websocket that serves `/ws/<key>`."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.key: str | None = None
        self.expires_at = 0.0
        self.issued = 0
        self.keepalives = 0
        self.sockets: dict[ServerConnection, str] = {}  # open socket → its listenKey
        self.refuse_keepalive_until = 0.0  # keepalives fail (transport) until then
        self.connections = 0

    # --- REST, as the account's client calls it -----------------------------------------------
    capabilities = Capabilities()

    async def new_listen_key(self) -> str:
        if self.key is None or self.clock() >= self.expires_at:
            self.issued += 1
            self.key = f"key{self.issued:04d}"
        self.expires_at = self.clock() + KEY_TTL
        return self.key

    async def keepalive_listen_key(self) -> None:
        if self.clock() < self.refuse_keepalive_until:
            raise OSError("connection reset")  # transport trouble: the PUT never arrives
        if self.key is None or self.clock() >= self.expires_at:
            raise ApiError(-1125, "This listenKey does not exist.", 400)
        self.keepalives += 1
        self.expires_at = self.clock() + KEY_TTL

    async def close_listen_key(self) -> None:
        self.key = None

    # --- the websocket ------------------------------------------------------------------------
    async def handler(self, ws: ServerConnection) -> None:
        if ws.request is None or ws.request.path != f"/ws/{self.key}":
            await ws.close(1008, "unknown listenKey")
            return
        self.connections += 1
        self.sockets[ws] = self.key
        try:
            await ws.wait_closed()
        finally:
            self.sockets.pop(ws, None)

    def forget_key(self) -> None:
        """The exchange loses the key without a word (a restart): its socket stays open but
        carries nothing more; only the next keepalive (-1125) can tell."""
        self.key = None

    async def expire_keys(self) -> None:
        """Binance's side: a key not kept alive ends its sockets with `listenKeyExpired`."""
        while True:
            await asyncio.sleep(max(1.0, self.expires_at - self.clock()))
            if self.key is not None and self.clock() >= self.expires_at:
                self.key = None  # gone from now on, before the sockets hear of it
                notice = json.dumps({"e": "listenKeyExpired", "E": str(int(self.clock() * 1000))})
                for ws in list(self.sockets):
                    with contextlib.suppress(Exception):
                        await ws.send(notice)
                        await ws.close()

    async def broadcast(self, event: dict) -> int:
        """An event for the account: delivered on the sockets of its live key only."""
        sent = 0
        for ws in [ws for ws, key in self.sockets.items() if key == self.key]:
            with contextlib.suppress(Exception):
                await ws.send(json.dumps(event))
                sent += 1
        return sent


def account_update(n: int, now: float) -> dict:
    return {
        "e": "ACCOUNT_UPDATE", "E": int(now * 1000), "T": int(now * 1000),
        "a": {"m": "ORDER", "B": [{"a": "USDT", "wb": str(100 + n), "cw": "100", "bc": "0"}],
              "P": []},
    }  # fmt: skip


def test_the_user_stream_lives_a_week_of_keepalives_recycles_and_expired_keys() -> None:
    async def week() -> dict:
        loop = asyncio.get_running_loop()
        exchange = ListenKeyExchange(loop.time)
        received: list[AccountUpdate] = []
        snapshots: list[float] = []

        async def resnapshot() -> None:
            snapshots.append(loop.time())

        async with serve(exchange.handler, "127.0.0.1", 0, ping_interval=None) as server:
            port = server.sockets[0].getsockname()[1]
            stream = UserStream(
                exchange, f"ws://127.0.0.1:{port}", received.append, resnapshot,
                clock=loop.time, ping_interval_s=None,
            )  # fmt: skip
            expirer = asyncio.create_task(exchange.expire_keys())
            runner = asyncio.create_task(stream.run())
            sent = delivered_gap = 0
            down_samples = 0
            hour = 0
            while loop.time() < WEEK:
                hour += 1
                await asyncio.sleep(3600 - (loop.time() % 3600))
                if hour == 50:  # day 2: keepalives lost for 70 min: the key expires
                    exchange.refuse_keepalive_until = loop.time() + 70 * 60
                if hour == 100:  # day 4: the exchange forgets the key: the next PUT says -1125
                    exchange.forget_key()
                await asyncio.sleep(1)  # an event a second after each hour
                if not stream.connected:
                    down_samples += 1
                sent += 1
                await exchange.broadcast(account_update(hour, loop.time()))
            await asyncio.sleep(1)
            delivered_gap = sent - len(received)
            await stream.close()
            await runner
            expirer.cancel()
            return {
                "connections": exchange.connections, "keys": exchange.issued,
                "keepalives": exchange.keepalives, "snapshots": snapshots, "sent": sent,
                "lost": delivered_gap, "down_samples": down_samples, "hours": hour,
            }  # fmt: skip

    r = run_virtual(week())
    # 6 recycles at 23 h, + 1 after listenKeyExpired, + 1 after -1125: 9 connections
    assert r["connections"] == 9, r
    assert r["keys"] == 3  # the first, after the expiry, after -1125 (a recycle keeps its key)
    assert 300 <= r["keepalives"] <= 7 * 48  # every 30 min, fewer around the two losses
    assert len(r["snapshots"]) == r["connections"]  # a re-snapshot after every connect
    assert r["down_samples"] == 0 and r["lost"] == 0 and r["sent"] == r["hours"] >= 168


def test_the_feed_rolls_over_every_23_hours_and_never_goes_stale() -> None:
    async def week() -> dict:
        loop = asyncio.get_running_loop()
        connects: list[float] = []

        async def ticks(ws: ServerConnection) -> None:
            connects.append(loop.time())
            n = 0
            with contextlib.suppress(Exception):
                while True:
                    n += 1
                    payload = {"s": "BTCUSDT", "b": f"{95000 + n % 7}", "B": "1",
                               "a": f"{95001 + n % 7}", "A": "1", "u": n, "E": n}  # fmt: skip
                    await ws.send(json.dumps({"stream": "btcusdt@bookTicker", "data": payload}))
                    await asyncio.sleep(60)

        async with serve(ticks, "127.0.0.1", 0, ping_interval=None) as server:
            port = server.sockets[0].getsockname()[1]
            feed = BinanceFeed(
                FeedSettings(
                    url=f"ws://127.0.0.1:{port}/stream", streams={"btcusdt@bookTicker": "BTCUSDT"},
                    stale_after_s=90, silent_reconnect_s=300, ping_interval_s=None,
                ),
                clock=loop.time,
            )  # fmt: skip
            changes: list[tuple[float, bool]] = []
            feed.on_state_change(lambda s: changes.append((loop.time(), feed.is_live(s))))
            runner = asyncio.create_task(feed.run())
            assert await feed.wait_live(["BTCUSDT"], timeout=10)
            stale_at = []
            while loop.time() < WEEK:
                await asyncio.sleep(30)
                if not feed.is_live("BTCUSDT"):
                    stale_at.append(loop.time())
            await feed.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            return {"connects": connects, "stale_at": stale_at, "mid": feed.mid("BTCUSDT"),
                    "reconnects": feed.stats.reconnects, "changes": changes}  # fmt: skip

    r = run_virtual(week())
    assert r["stale_at"] == []  # sampled every 30 s for a week: always live
    assert r["reconnects"] == 7 and len(r["connects"]) == 8
    gaps = [b - a for a, b in pairwise(r["connects"])]
    assert all(22 * 3600 < gap <= 23 * 3600 + 1 for gap in gaps), gaps  # recycled before 24 h
    assert r["mid"] is not None and Decimal(r["mid"]) > 0
