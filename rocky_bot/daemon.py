"""`rocky-bot run`: the fleet plus its shell — signals, status server, systemd notifications."""

from __future__ import annotations

import asyncio
import signal
import time

import structlog
import uvicorn

from rocky_bot.config_errors import ConfigError
from rocky_bot.exchange.models import Side
from rocky_bot.fleet import Fleet
from rocky_bot.keys import KeysFile
from rocky_bot.ops.notify import SystemdNotifier
from rocky_bot.ops.status import fleet_status, status_app
from rocky_bot.settings import Settings

log = structlog.get_logger()

#: How long the status server may take to close once the fleet has stopped.
SERVER_STOP_S = 0.5


class QuietServer(uvicorn.Server):
    """uvicorn's server without its 10 Hz housekeeping tick.

    uvicorn's main loop wakes every 100 ms to look at `should_exit` and to refresh the Date
    header: a third of an idle fleet's timer wake-ups (issue 14: ~30 a second in all, and each
    wake-up from idle cost ~100 µs of CPU on the bench's VM). Here `should_exit` is an event the
    main loop awaits, and replies carry no Date header (optional for an origin server without a
    clock it trusts, RFC 9110 §6.6.1; Prometheus and `rocky-bot status` do not read it) rather
    than one that goes stale.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        self._exit = asyncio.Event()
        super().__init__(config)

    @property  # type: ignore[override]
    def should_exit(self) -> bool:
        return self._exit.is_set()

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        if value:
            self._exit.set()
        else:
            self._exit.clear()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # the default headers (Server), as uvicorn's first tick sets them
        await self._exit.wait()


async def start_http(app, host: str, port: int) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    """Serve a Starlette app on the running loop; return the server, its task and the real port."""
    # log_config=None: uvicorn's records go through our logging set-up (JSON under systemd)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", log_config=None, lifespan="off",
        date_header=False,
    )  # fmt: skip
    server = QuietServer(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign] - we own signals
    task = asyncio.create_task(server.serve(), name="status_server")
    while not server.started:
        if task.done():
            task.result()  # raises the bind error
            raise OSError(f"status server on {host}:{port} did not start")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return server, task, bound


def summary_line(fleet: Fleet) -> str:
    doc = fleet_status(fleet)
    mids = " ".join(f"{s}={v['mid'] or '-'}" for s, v in doc["feed"].items())
    orders = sum(a["open_orders"] for a in doc["accounts"])
    open_breakers = sum(a["breaker"] == "open" for a in doc["accounts"])
    return f"{mids} orders={orders} breakers_open={open_breakers} weight={doc['used_weight_1m']}"


async def run_daemon(
    settings: Settings,
    keys: KeysFile,
    *,
    stop: asyncio.Event | None = None,
    install_signals: bool = True,
    notifier: SystemdNotifier | None = None,
    fleet: Fleet | None = None,
    any_port_if_busy: bool = False,
) -> int:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    notifier = notifier or SystemdNotifier()

    stopping_sent = False

    def say_stopping() -> None:
        """STOPPING=1 once, the moment shutdown begins (cancelling every order follows)."""
        nonlocal stopping_sent
        if not stopping_sent:
            stopping_sent = True
            notifier.stopping()

    async def announce_stop() -> None:
        await stop.wait()
        say_stopping()

    def on_signal() -> None:
        fleet.gate.close()  # at once: no order request starts once the signal is in
        say_stopping()
        stop.set()

    fleet = fleet or Fleet(settings, keys)
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
    try:
        server, server_task, port = await start_http(
            status_app(fleet), settings.metrics_host, settings.metrics_port
        )
    except (OSError, SystemExit) as exc:  # uvicorn exits on a busy port
        if not any_port_if_busy:
            raise ConfigError(
                f"status server cannot listen on {settings.metrics_host}:"
                f"{settings.metrics_port} (ROCKY_METRICS_PORT): {exc}"
            ) from None
        server, server_task, port = await start_http(status_app(fleet), settings.metrics_host, 0)
    log.info("status_server_listening", url=f"http://{settings.metrics_host}:{port}/status")
    fleet.status_url = f"http://{settings.metrics_host}:{port}"
    side_tasks = [
        asyncio.create_task(_watchdog(fleet, notifier), name="watchdog"),
        asyncio.create_task(_summaries(fleet, settings.summary_interval_s), name="summary"),
        asyncio.create_task(announce_stop(), name="announce_stop"),
    ]

    def on_ready() -> None:
        notifier.ready(summary_line(fleet))

    try:
        await fleet.run(stop, on_ready=on_ready)
    finally:
        say_stopping()
        for task in side_tasks:
            task.cancel()
        await asyncio.wait(side_tasks, timeout=0.5)
        server.should_exit = True
        _, pending = await asyncio.wait([server_task], timeout=SERVER_STOP_S)
        for task in pending:  # a client holding a connection open must not hold the exit
            task.cancel()
    return fleet.exit_code


async def _watchdog(fleet: Fleet, notifier: SystemdNotifier) -> None:
    """WATCHDOG=1 only while the event loop turns and the feed is live: a wedged or blind
    daemon is restarted by systemd instead of quoting stale prices."""
    period = notifier.watchdog_interval_s() or 5.0
    while True:
        await asyncio.sleep(period)
        if fleet.ready.is_set() and all(fleet.feed.is_live(s) for s in fleet.settings.symbols):
            notifier.watchdog()
        notifier.status(summary_line(fleet))


def fleet_book(fleet: Fleet) -> dict[str, dict[str, object]]:
    """The book the fleet keeps per symbol: its live orders per side, best of each, and the mid."""
    book: dict[str, dict[str, object]] = {}
    for symbol in fleet.settings.symbols:
        prices: dict[Side, list] = {Side.BUY: [], Side.SELL: []}
        for ctx in fleet.contexts:
            for order in ctx.state.live_orders(symbol):
                prices[order.side].append(order.price)
        bids, asks = prices[Side.BUY], prices[Side.SELL]
        mid = fleet.feed.mid(symbol)
        best_bid, best_ask = (max(bids) if bids else None), (min(asks) if asks else None)
        spread = (
            round(float((best_ask - best_bid) / mid * 10_000), 2)
            if best_bid is not None and best_ask is not None and mid
            else None
        )
        book[symbol] = {
            "mid": None if mid is None else str(mid), "bids": len(bids), "asks": len(asks),
            "best_bid": None if best_bid is None else str(best_bid),
            "best_ask": None if best_ask is None else str(best_ask), "spread_bps": spread,
        }  # fmt: skip
    return book


async def _summaries(fleet: Fleet, interval_s: float) -> None:
    """`fleet_summary` every interval: what the fleet quotes and how much traded since the last."""
    last_fills = 0
    while True:
        await asyncio.sleep(interval_s)
        if not fleet.ready.is_set():
            continue
        fills = sum(ctx.state.fills for ctx in fleet.contexts)
        log.info(
            "fleet_summary", book=fleet_book(fleet), fills_since_last=fills - last_fills,
            fills_total=fills, open_orders=sum(len(c.state.orders) for c in fleet.contexts),
            breakers_open=sum(c.breaker.state.value == "open" for c in fleet.contexts),
            used_weight_1m=fleet.governor.used_weight,
            uptime_s=round(time.monotonic() - fleet.started_at),
        )  # fmt: skip
        last_fills = fills
