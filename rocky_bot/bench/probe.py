"""The exchange side of `rocky-bot bench`: the sandbox in its own process, with a recorder attached.

    python -m rocky_bot.bench.probe --out probe.json [--tick-rate 100 --vol 0.6 --seed 1 ...]

prints one JSON line `{"base_url": ..., "ws_url": ...}` once it listens (on 127.0.0.1 only, an
ephemeral port), runs until SIGTERM/SIGINT, then writes everything it recorded to `--out`.
The admin token comes from the environment (`ROCKY_BENCH_ADMIN_TOKEN`), never argv.

Why measure here and not in the fleet: the bench must judge the fleet by what the *exchange* saw
(when a tick left, when an order was accepted, what the book looked like), not by the bot's own
beliefs. The recorder uses only the sandbox's public seams, so the sandbox itself stays unchanged
and knows nothing of the bench:

- every HTTP request (time, method, path, whether it named a symbol, the HTTP status it got, the
  account whose key it carried and the client's address: shards each have their own) through
  the fault-hook seam;
- every user data event the engine emits (order accepted / amended / traded / cancelled, and
  the position after each fill), by teeing the engine's event sink;
- every published tick (time, mid), by wrapping the reference feed's `publish` (the price the
  fleet follows);
- a 1-s sample of mids, top of book, every account's open orders and positions.

The analysis (bands, latencies, uptime) happens afterwards in the bench process (`bench_report`).
Recording is a list append per item; the sampler costs a few ms per second at 300 accounts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.events import EventSink
from rocky_bot.sandbox.listing import listed
from rocky_bot.sandbox.prices import Tick
from rocky_bot.sandbox.rest_gateway import FaultHooks
from rocky_bot.sandbox.signing import KeyStore

ADMIN_TOKEN_ENV = "ROCKY_BENCH_ADMIN_TOKEN"
SAMPLE_EVERY_S = 1.0


class Recorder:
    """Append-only lists of what the exchange saw, with `time.time()` stamps (shared host clock)."""

    def __init__(self) -> None:
        self.ticks: dict[str, list[tuple[float, float]]] = {}
        #: (t, method, path, named a symbol, HTTP status, account or "", client IP)
        self.requests: list[tuple[float, str, str, int, int, str, str]] = []
        #: (t, account, symbol, side, exec_type, status, order_id, price, maker, trade_id)
        self.events: list[tuple[float, str, str, str, str, str, int, float, int, int]] = []
        self.samples: list[dict[str, Any]] = []
        #: (t, account, symbol, position amount) from every ACCOUNT_UPDATE with positions
        self.positions: list[tuple[float, str, str, float]] = []

    def tick(self, tick: Tick) -> None:
        self.ticks.setdefault(tick.symbol, []).append((time.time(), float(tick.mid)))

    def request(
        self, method: str, path: str, query: bytes, status: int, account: str, ip: str = ""
    ) -> None:
        has_symbol = 1 if b"symbol=" in query else 0
        self.requests.append((time.time(), method, path, has_symbol, status, account, ip))

    def order_event(self, account: str, payload: dict[str, Any]) -> None:
        o = payload["o"]
        self.events.append(
            (time.time(), account, o["s"], o["S"], o["x"], o["X"], int(o["i"]), float(o["p"]),
             1 if o["m"] else 0, int(o["t"]))
        )  # fmt: skip

    def account_event(self, account: str, payload: dict[str, Any]) -> None:
        now = time.time()
        for p in payload["a"]["P"]:
            self.positions.append((now, account, p["s"], float(p["pa"])))

    def document(self) -> dict[str, Any]:
        return {
            "ticks": self.ticks,
            "requests": self.requests,
            "events": self.events,
            "positions": self.positions,
            "samples": self.samples,
        }


class _RecordingHooks(FaultHooks):
    """The fault seam used as a tap: note each request and the status it got, inject nothing.

    The body is not read here: the fleet sends every call's parameters in the query string, and
    a form body's `symbol` would only matter to calls whose weight depends on it (GET, DELETE).
    """

    def __init__(self, recorder: Recorder, keys: KeyStore) -> None:
        self._recorder = recorder
        self._keys = keys

    async def handle(self, scope: Any, receive: Any, send: Any, app: Any) -> None:
        status = 0

        async def noting(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, noting)
        finally:
            key = dict(scope.get("headers") or ()).get(b"x-mbx-apikey", b"").decode("latin-1")
            cred = self._keys.get(key) if key else None
            client = scope.get("client") or ("",)
            self._recorder.request(
                scope["method"], scope["path"], scope.get("query_string", b""), status,
                cred.account if cred else "", str(client[0]),
            )  # fmt: skip


class _TeeSink:
    """The engine's event sink, teed: order events are recorded, everything is passed on."""

    def __init__(self, inner: EventSink, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder

    def wants(self, account: str) -> bool:
        return True

    def emit(self, account: str, payload: dict[str, Any]) -> None:
        kind = payload.get("e")
        if kind == "ORDER_TRADE_UPDATE":
            self._recorder.order_event(account, payload)
        elif kind == "ACCOUNT_UPDATE":
            self._recorder.account_event(account, payload)
        if self._inner.wants(account):
            self._inner.emit(account, payload)


def attach(exchange: SandboxExchange, recorder: Recorder) -> None:
    """Tap an (unstarted) sandbox: requests, order events and ticks flow into `recorder`."""
    exchange.faults = _RecordingHooks(recorder, exchange.keys)
    exchange.engine.sink = _TeeSink(exchange.engine.sink, recorder)
    publish = exchange.reference.publish

    def recorded_publish(tick: Tick) -> None:
        recorder.tick(tick)
        publish(tick)

    exchange.reference.publish = recorded_publish  # type: ignore[method-assign]


def sample(exchange: SandboxExchange) -> dict[str, Any]:
    """One look at the whole exchange: mids, tops of book, open orders and positions."""
    engine = exchange.engine
    books = {}
    mids = {}
    for symbol in engine.grids:
        mids[symbol] = float(exchange.prices.mid(symbol))
        top = engine.book_summary(symbol)
        books[symbol] = [
            None if top.best_bid is None else float(top.best_bid),
            None if top.best_ask is None else float(top.best_ask),
            top.bid_levels,
            top.ask_levels,
        ]
    orders: dict[str, list[list[Any]]] = {}
    positions: dict[str, dict[str, float]] = {}
    for name in list(engine.accounts):
        live = engine.open_orders(name)
        if live:
            orders[name] = [[o.symbol, o.side, float(o.price)] for o in live]
        held = {p.symbol: float(p.amount) for p in engine.account_view(name).positions}
        held = {s: a for s, a in held.items() if a}
        if held:
            positions[name] = held
    now = time.time()
    return {"t": now, "mids": mids, "books": books, "orders": orders, "positions": positions}


async def _sampler(exchange: SandboxExchange, recorder: Recorder) -> None:
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        recorder.samples.append(sample(exchange))
        next_at += SAMPLE_EVERY_S
        await asyncio.sleep(max(0.0, next_at - loop.time()))


async def run_probe(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    config = SandboxConfig(
        host="127.0.0.1",
        port=args.port,
        symbols=listed(args.symbols.split(",")),
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        annual_vol=args.vol,
        msgs_per_s=args.tick_rate,
        seed=args.seed,
        weight_limit_per_min=args.weight_limit,
    )
    exchange = SandboxExchange(config)
    recorder = Recorder()
    attach(exchange, recorder)
    await exchange.start()
    sampler = asyncio.create_task(_sampler(exchange, recorder), name="bench_sampler")
    print(json.dumps({"base_url": exchange.base_url, "ws_url": exchange.ws_url}), flush=True)
    try:
        await stop.wait()
    finally:
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
        recorder.samples.append(sample(exchange))
        left = exchange.engine.open_order_count()
        await exchange.stop()
        doc = recorder.document()
        doc["open_orders_at_end"] = left
        doc["config"] = {
            "annual_vol": config.annual_vol,
            "msgs_per_s_per_symbol": config.msgs_per_s,
            "seed": config.seed,
            "weight_limit_per_min": config.weight_limit_per_min,
            "symbols": [spec.symbol for spec in config.symbols],
        }
        tmp = Path(args.out).with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rocky_bot.bench.probe")
    parser.add_argument("--out", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--vol", type=float, default=0.6)
    parser.add_argument("--tick-rate", type=float, default=100.0, help="messages/s per symbol")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--weight-limit", type=int, default=2400)
    parser.add_argument("--symbols", default="BTCUSDT,ETHUSDT")
    args = parser.parse_args(argv)
    from rocky_bot.cli import run_async
    from rocky_bot.ops.logs import configure_logging

    configure_logging("json", "warning")
    return run_async(run_probe(args))


if __name__ == "__main__":
    sys.exit(main())
