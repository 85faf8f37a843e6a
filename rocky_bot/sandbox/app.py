"""The sandbox exchange assembled: engine + REST + websockets + price driver + page on one port.

    exchange = SandboxExchange(SandboxConfig(port=0, seed=1))
    await exchange.start()          # uvicorn in *this* event loop; real port in base_url
    ...                             # exchange.engine / .prices / .market / .reference / .users
    await exchange.stop()           # idempotent

Two kinds of market data leave it. The venue's own (`exchange.market`: its order book and
trades, at `/public`, `/market`, `/ws`, `/stream`) and the reference price (`exchange.reference`:
the price driver's bookTicker at `/reference/...`, standing in for the Binance feed the daemon
follows). `reference_url` is what a daemon's feed URL points at. Paths are in ws_routes.py.

The embedding process owns the signals: uvicorn's own SIGINT/SIGTERM capture is switched off so
`rocky-bot sandbox` (and tests) decide when to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Iterator

import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from rocky_bot.sandbox import (
    admin,
    faults,
    page,
    rest_account,
    rest_charts,
    rest_public,
    rest_trade,
    userdata,
    ws_limits,
    ws_routes,
)  # fmt: skip
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.engine import Engine, wall_clock_ms
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.http_limits import MAX_CONCURRENCY, BodyLimit, BoundedHttpTools
from rocky_bot.sandbox.market_feed import MarketFeed
from rocky_bot.sandbox.prices import PriceDriver, Tick
from rocky_bot.sandbox.reference import ReferenceFeed
from rocky_bot.sandbox.rest_gateway import FaultHooks, FaultMiddleware, Gateway, error_response
from rocky_bot.sandbox.signing import KeyStore

log = structlog.get_logger()

#: Idle HTTP connections are kept this long (AWS ALB's default idle timeout is 60 s).
KEEP_ALIVE_S = 60

LISTEN_KEY_EXPIRY_EVERY_MS = 1000
STOP_TIMEOUT_S = 5.0


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal capture: the host process decides when the sandbox stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class SandboxExchange:
    def __init__(
        self, config: SandboxConfig, *, clock_ms: Callable[[], int] = wall_clock_ms
    ) -> None:
        self.config = config
        self.clock_ms = clock_ms
        self.admin_token = config.admin_token or secrets.token_hex(16)
        #: The fault-injection seam (faults.py; `/admin/v1/faults`). Tests may swap in their own.
        self.fault_injector = faults.FaultInjector(self, seed=config.seed)
        self.faults: FaultHooks = self.fault_injector
        self.keys = KeyStore()
        self.users = userdata.UserData(clock_ms)
        self.engine = Engine(
            config.symbols,
            margin_asset=config.margin_asset,
            maker_fee=config.effective_maker_fee,
            taker_fee=config.effective_taker_fee,
            default_leverage=config.default_leverage,
            clock_ms=clock_ms,
            sink=self.users,
        )
        self.gateway = Gateway(
            self.keys,
            weight_limit_per_min=config.weight_limit_per_min,
            order_limit_per_10s=config.order_limit_per_10s,
            order_limit_per_min=config.order_limit_per_min,
            recv_window_default=config.recv_window_default,
            clock_ms=clock_ms,
            faults=lambda: self.faults,
        )
        self.ws_gate = ws_limits.ConnectionGate(config.ws_open_per_ip, config.ws_new_per_ip_5min)
        self.reference = ReferenceFeed()
        self.market = MarketFeed(self.engine, clock_ms)
        self.fleet = page.FleetStatus(config.fleet_status_url)
        self.prices = PriceDriver(
            {s.symbol: s.start_price for s in config.symbols},
            {s.symbol: s.tick_size for s in config.symbols},
            annual_vol=config.annual_vol,
            msgs_per_s=config.msgs_per_s,
            on_tick=self._on_tick,
            seed=config.seed,
            replay_path=config.replay_path,
        )
        self.app = Starlette(
            routes=self._routes(),
            exception_handlers={404: _http_error, 405: _http_error},
            middleware=[
                Middleware(BodyLimit),  # outermost: a body over the cap never reaches a route
                Middleware(FaultMiddleware, hooks=lambda: self.faults),
            ],
        )
        self.base_url = ""
        self.ws_url = ""
        self._server: _EmbeddedServer | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("sandbox already started")
        uv_config = uvicorn.Config(
            self.app,
            host=self.config.host,
            port=self.config.port,
            log_level="warning",
            lifespan="off",
            http=BoundedHttpTools,
            ws="websockets-sansio",
            ws_max_size=ws_limits.MAX_MESSAGE_BYTES,
            limit_concurrency=MAX_CONCURRENCY,
            timeout_graceful_shutdown=STOP_TIMEOUT_S,
            # Like a load balancer's 60 s idle cut (uvicorn's 5 s default would make a client
            # that requests every few seconds open a new connection each time).
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        self._server = server = _EmbeddedServer(uv_config)
        self._serve_task = asyncio.create_task(server.serve(), name="sandbox_http")
        while not server.started:
            if self._serve_task.done():
                self._serve_task.result()  # raises the bind error, if any
                raise RuntimeError("sandbox server exited during startup")
            await asyncio.sleep(0.005)
        port = server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://{self.config.host}:{port}"
        self.ws_url = f"ws://{self.config.host}:{port}"
        self._tasks = [
            asyncio.create_task(self.prices.run(), name="sandbox_prices"),
            asyncio.create_task(self.market.run(), name="sandbox_market"),
            asyncio.create_task(self._housekeeping(), name="sandbox_housekeeping"),
        ]
        log.info("sandbox_started", base_url=self.base_url, symbols=list(self.engine.grids))

    async def stop(self) -> None:
        """Stop prices, end sockets and the HTTP server. Safe to call twice or before start."""
        if self._stopped or self._server is None:
            self._stopped = True
            return
        self._stopped = True
        await self.fault_injector.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.users.close_all()
        self._server.should_exit = True
        assert self._serve_task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._serve_task), STOP_TIMEOUT_S + 1)
        except TimeoutError:
            self._server.force_exit = True
            self._serve_task.cancel()
            await asyncio.gather(self._serve_task, return_exceptions=True)
        log.info("sandbox_stopped", base_url=self.base_url)

    def reference_url(self, symbols: tuple[str, ...] | None = None) -> str:
        """The reference price as a combined stream (every listed symbol's unless named): what
        a daemon's feed URL points at."""
        symbols = symbols or tuple(spec.symbol for spec in self.config.symbols)
        streams = "/".join(f"{s.lower()}@bookTicker" for s in symbols)
        return f"{self.ws_url}/reference/stream?streams={streams}"

    def set_fleet_status_url(self, url: str | None) -> None:
        """Where the page's fleet panel reads the daemon's /status (None: no fleet)."""
        self.fleet = page.FleetStatus(url)

    def _on_tick(self, tick: Tick) -> None:
        self.engine.set_mark(tick.symbol, tick.mid)
        if not self.faults.replace_tick(tick):
            self.reference.publish(tick)

    # -- the "exchange down" fault ----------------------------------------------------------
    async def refuse_connections(self) -> None:
        """Stop listening and cut every open connection (HTTP and websockets) at once.

        Clients then see what a dead host looks like: resets on open connections and
        "connection refused" on new ones, not polite error replies.
        """
        assert self._server is not None
        for listener in self._server.servers:
            listener.close()
        for connection in list(self._server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        log.warning("sandbox_down", base_url=self.base_url)

    async def accept_connections(self) -> None:
        """Listen again on the same port (after `refuse_connections`)."""
        assert self._server is not None
        if self._stopped or any(s.is_serving() for s in self._server.servers):
            return
        self._server.config.port = int(self.base_url.rsplit(":", 1)[1])
        await self._server.startup()
        log.warning("sandbox_up", base_url=self.base_url)

    async def _housekeeping(self) -> None:
        """Dead-man switches every `countdown_poll_ms`; listenKey expiry once a second.

        Also re-reads the driver's mid into the mark: while the feed is frozen (a fault) no tick
        arrives, but the market keeps moving and margin must follow it.
        """
        period_s = self.config.countdown_poll_ms / 1000
        last_expiry = 0
        while True:
            now = self.clock_ms()
            for symbol in self.engine.grids:
                self.engine.set_mark(symbol, self.prices.mid(symbol))
            self.engine.expire_countdowns(now)
            if now - last_expiry >= LISTEN_KEY_EXPIRY_EVERY_MS:
                self.users.expire(now)
                last_expiry = now
            await asyncio.sleep(period_s)

    # -- routing ------------------------------------------------------------------------
    def _routes(self) -> list[BaseRoute]:
        gw = self.gateway
        return [
            *rest_public.routes(gw, self.engine, self.config),
            *rest_charts.routes(gw, self.engine),
            *rest_trade.routes(gw, self.engine),
            *rest_account.routes(gw, self.engine),
            *userdata.routes(gw, self.users),
            *admin.routes(self.engine, self.keys, self.admin_token),
            *admin.fault_routes(self.fault_injector, self.admin_token),
            *page.routes(lambda: self.fleet),
            *ws_routes.routes(self.users, self.reference.handle, self.market.handle, self.ws_gate),
        ]


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods still answer in Binance's JSON error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    msg = f"{request.method[:10]} {request.url.path[:100]} is not a known endpoint."
    return error_response(SandboxError(-1000, msg, status))
