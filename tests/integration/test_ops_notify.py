"""sd_notify from the real daemon, received on a real AF_UNIX datagram socket: READY=1 only once
the feed is fresh and every account is set up, WATCHDOG=1 while healthy and not while the feed
is frozen, STATUS= lines throughout, STOPPING=1 once on stop."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from fleet_harness import running_fleet
from waiting import wait_for

from rocky_bot.ops.notify import SystemdNotifier

IDS = ["mm-anchor", "mm-l1-buy-05bps", "mm-l1-sell-05bps"]
SYMBOLS = ("BTCUSDT", "ETHUSDT")
WATCHDOG_USEC = 300_000  # WatchdogSec=0.3 → a ping every 0.15 s


@dataclass(frozen=True)
class Datagram:
    at: float
    fields: tuple[str, ...]
    fleet_ready: bool
    feed_live: bool


def socket_path(tmp_path: Path) -> Path:
    path = tmp_path / "notify.sock"
    if len(str(path)) < 100:  # sun_path holds 108 bytes
        return path
    return Path(tempfile.mkdtemp(prefix="rb-notify-")) / "notify.sock"


def sent(datagrams: list[Datagram], field: str, after: float = float("-inf")) -> list[Datagram]:
    return [d for d in datagrams if d.at > after and field in d.fields]


async def test_ready_watchdog_status_and_stopping_reach_a_real_notify_socket(sandbox, tmp_path):
    path = socket_path(tmp_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.setblocking(False)
    loop = asyncio.get_running_loop()
    datagrams: list[Datagram] = []
    handle_box: list = []

    async def receive() -> None:
        while True:
            payload = await loop.sock_recv(listener, 4096)
            fleet = handle_box[0].fleet if handle_box else None
            datagrams.append(
                Datagram(
                    time.monotonic(), tuple(payload.decode().split("\n")),
                    fleet is not None and fleet.ready.is_set(),
                    fleet is not None and all(fleet.feed.is_live(s) for s in SYMBOLS),
                )
            )  # fmt: skip

    receiver = asyncio.create_task(receive())
    notifier = SystemdNotifier(str(path), environ={"WATCHDOG_USEC": str(WATCHDOG_USEC)})
    assert notifier.watchdog_interval_s() == 0.15
    sandbox.prices.frozen = True  # no mid yet: the fleet sets up but must not say READY
    try:
        async with running_fleet(
            sandbox, tmp_path, ids=IDS, notifier=notifier, wait_ready=False
        ) as handle:
            handle_box.append(handle)
            fleet = handle.fleet

            # --- start-up: accounts set up, loops running, but no fresh mid → no READY
            assert await wait_for(
                lambda: (
                    len(fleet.contexts) == len(IDS)
                    and all(c.state.wallet is not None for c in fleet.contexts)
                    and len(fleet.loops) == len(IDS) * len(SYMBOLS)
                ),
                10,
                interval=0.02,
            )
            await asyncio.sleep(0.6)
            assert not sent(datagrams, "READY=1") and not fleet.ready.is_set()
            assert not sent(datagrams, "WATCHDOG=1")
            assert any(f.startswith("STATUS=") for d in datagrams for f in d.fields)

            sandbox.prices.frozen = False
            assert await wait_for(lambda: sent(datagrams, "READY=1"), 10, interval=0.02)
            (ready,) = sent(datagrams, "READY=1")
            assert ready.fleet_ready and ready.feed_live
            assert any(f.startswith("STATUS=BTCUSDT=") for f in ready.fields), ready.fields

            # --- healthy: periodic pings (every 0.15 s), and a one-line status
            assert await wait_for(
                lambda: len(sent(datagrams, "WATCHDOG=1", after=ready.at)) >= 3, 5, interval=0.02
            )
            status_lines = [
                f for d in datagrams if d.at > ready.at for f in d.fields if f.startswith("STATUS=")
            ]
            assert status_lines and all("orders=" in s for s in status_lines)

            # --- feed frozen: the pings stop (systemd would restart a blind daemon)
            sandbox.prices.frozen = True
            assert await wait_for(lambda: not fleet.feed.is_live("BTCUSDT"), 5, interval=0.02)
            went_stale = time.monotonic()
            await asyncio.sleep(0.8)  # five ping periods in which no ping may come
            # A ping decided just before the feed went stale may be received a little later on a
            # busy machine: 0.3 s (two periods) of slack, then silence.
            assert sent(datagrams, "WATCHDOG=1", after=went_stale + 0.3) == []
            assert any(
                f.startswith("STATUS=") for d in datagrams if d.at > went_stale for f in d.fields
            )

            # --- recovered: pings resume
            sandbox.prices.frozen = False
            recovered = time.monotonic()
            assert await wait_for(
                lambda: sent(datagrams, "WATCHDOG=1", after=recovered), 5, interval=0.02
            )

            # --- stop: STOPPING=1, once
            code = await handle.stop_and_wait()
            assert code == 0
            assert await wait_for(lambda: sent(datagrams, "STOPPING=1"), 2, interval=0.02)
        stopping = sent(datagrams, "STOPPING=1")
        assert len(stopping) == 1
        assert sent(datagrams, "READY=1", after=stopping[0].at) == []
    finally:
        sandbox.prices.frozen = False
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        listener.close()
        notifier.close()
