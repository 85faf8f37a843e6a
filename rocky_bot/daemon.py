"""`rocky-bot run`: the fleet plus its shell — signals, status server, systemd notifications."""

from __future__ import annotations

import asyncio
import signal
import time

import structlog
import uvicorn

from rocky_bot.config_errors import ConfigError
from rocky_bot.fleet import Fleet
from rocky_bot.keys import KeysFile
from rocky_bot.notify import SystemdNotifier
from rocky_bot.settings import Settings
from rocky_bot.status import fleet_status, status_app

log = structlog.get_logger()


async def start_http(app, host: str, port: int) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    """Serve a Starlette app on the running loop; return the server, its task and the real port."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
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

    def on_signal() -> None:
        notifier.stopping()  # tell systemd at once; cancelling every order follows
        stop.set()

    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
    fleet = fleet or Fleet(settings, keys)
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
    ]

    def on_ready() -> None:
        notifier.ready(summary_line(fleet))

    try:
        await fleet.run(stop, on_ready=on_ready)
    finally:
        notifier.stopping()
        for task in side_tasks:
            task.cancel()
        await asyncio.gather(*side_tasks, return_exceptions=True)
        server.should_exit = True
        await asyncio.gather(server_task, return_exceptions=True)
    return 0


async def _watchdog(fleet: Fleet, notifier: SystemdNotifier) -> None:
    """WATCHDOG=1 only while the event loop turns and the feed is live: a wedged or blind
    daemon is restarted by systemd instead of quoting stale prices."""
    period = notifier.watchdog_interval_s() or 5.0
    while True:
        await asyncio.sleep(period)
        if fleet.ready.is_set() and all(fleet.feed.is_live(s) for s in fleet.settings.symbols):
            notifier.watchdog()
        notifier.status(summary_line(fleet))


async def _summaries(fleet: Fleet, interval_s: float) -> None:
    last_fills = 0
    while True:
        await asyncio.sleep(interval_s)
        fills = sum(ctx.state.fills for ctx in fleet.contexts)
        book = {
            s: {
                "bids": sum(
                    1
                    for c in fleet.contexts
                    for o in c.state.live_orders(s)
                    if o.side.value == "BUY"
                ),
                "asks": sum(
                    1
                    for c in fleet.contexts
                    for o in c.state.live_orders(s)
                    if o.side.value == "SELL"
                ),
                "mid": str(fleet.feed.mid(s)),
            }
            for s in fleet.settings.symbols
        }
        log.info(
            "fleet_summary", book=book, fills_since_last=fills - last_fills,
            breakers_open=sum(c.breaker.state.value == "open" for c in fleet.contexts),
            used_weight_1m=fleet.governor.used_weight, uptime_s=round(time.monotonic() - fleet.started_at),
        )  # fmt: skip
        last_fills = fills
