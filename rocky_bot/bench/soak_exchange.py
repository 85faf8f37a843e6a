"""The exchange side of `rocky-bot soak`: the sandbox with its fees multiplied, and a tally.

    python -m rocky_bot.bench.soak_exchange --out tally.json --fee-multiplier 168 [...]

prints one JSON line `{"base_url", "ws_url", "reference_url"}` once it listens (127.0.0.1, an
ephemeral port), runs until SIGTERM/SIGINT, then writes its tally to `--out`. The admin token
comes from the environment (`ROCKY_BENCH_ADMIN_TOKEN`), never argv.

Why a tally and not the bench's recorder: the bench keeps every request, event and sample for a
two-minute window; an hour of that is hundreds of MB. The soak needs only aggregates, kept in
bounded form (one counter per second per symbol, one running sum per account), and judges the
fleet by what the *exchange* saw: trades per second, whether every maker level had an order
resting on its side (1-s samples), the lowest wallet, fees and PnL per account, and the orders
left after the fleet stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from rocky_bot.funnel import Role, parse_account_id
from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.events import EventSink

ADMIN_TOKEN_ENV = "ROCKY_BENCH_ADMIN_TOKEN"
SAMPLE_EVERY_S = 1.0


class Tally:
    """Bounded aggregates of what the exchange saw (see the module doc)."""

    def __init__(self) -> None:
        #: symbol → {epoch second: trades}; one entry per second with a trade at most
        self.trades: dict[str, Counter[int]] = {}
        #: account → {"fees", "realized", "notional", "fills"} (floats, margin asset)
        self.accounts: dict[str, dict[str, float]] = {}
        #: epoch second of each 1-s sample → the maker levels missing then (empty: full funnel)
        self.samples: dict[int, list[str]] = {}
        self.min_wallet: float | None = None
        self.min_wallet_account: str | None = None

    def order_event(self, account: str, o: dict[str, Any]) -> None:
        if o.get("x") != "TRADE":
            return
        if not o.get("m"):  # one print per trade: the taker's side of it
            second = int(time.time())
            self.trades.setdefault(o["s"], Counter())[second] += 1
        row = self.accounts.setdefault(
            account, {"fees": 0.0, "realized": 0.0, "notional": 0.0, "fills": 0}
        )
        row["fees"] += float(o["n"])
        row["realized"] += float(o["rp"])
        row["notional"] += float(o["l"]) * float(o["L"])
        row["fills"] += 1

    def sample(self, exchange: SandboxExchange) -> None:
        """One look: does every maker level rest an order on its side; the lowest wallet."""
        engine = exchange.engine
        missing = []
        for name in list(engine.accounts):
            wallet = float(engine.account_view(name).wallet_balance)
            if self.min_wallet is None or wallet < self.min_wallet:
                self.min_wallet, self.min_wallet_account = wallet, name
            for level in maker_levels(name, list(engine.grids)):
                symbol, side = level
                if not any(o.side == side for o in engine.open_orders(name, symbol)):
                    missing.append(f"{name}/{symbol}/{side}")
        self.samples[int(time.time())] = missing

    def document(self) -> dict[str, Any]:
        return {
            "trades": {s: {str(k): v for k, v in c.items()} for s, c in self.trades.items()},
            "accounts": self.accounts,
            "samples": {str(k): v for k, v in self.samples.items()},
            "min_wallet": self.min_wallet,
            "min_wallet_account": self.min_wallet_account,
        }


def maker_levels(account: str, symbols: list[str]) -> list[tuple[str, str]]:
    """The (symbol, side) levels an account keeps on the book: anchor both, a ladder its side."""
    try:
        spec = parse_account_id(account)
    except ValueError:
        return []
    if spec.role is Role.TAKER:
        return []
    sides = ("BUY", "SELL") if spec.role is Role.ANCHOR else (spec.side.value,)
    return [(symbol, side) for symbol in symbols for side in sides]


class _TallySink:
    """The engine's event sink, teed into the tally; everything is passed on unchanged."""

    def __init__(self, inner: EventSink, tally: Tally) -> None:
        self._inner, self._tally = inner, tally

    def wants(self, account: str) -> bool:
        return True

    def emit(self, account: str, payload: dict[str, Any]) -> None:
        if payload.get("e") == "ORDER_TRADE_UPDATE":
            self._tally.order_event(account, payload["o"])
        if self._inner.wants(account):
            self._inner.emit(account, payload)


async def _sampler(exchange: SandboxExchange, tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        tally.sample(exchange)
        next_at += SAMPLE_EVERY_S
        await asyncio.sleep(max(0.0, next_at - loop.time()))


async def run(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    config = SandboxConfig(
        host="127.0.0.1", port=0, admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        annual_vol=args.vol, msgs_per_s=args.tick_rate, seed=args.seed,
        weight_limit_per_min=args.weight_limit, fee_multiplier=Decimal(str(args.fee_multiplier)),
    )  # fmt: skip
    exchange = SandboxExchange(config)
    tally = Tally()
    exchange.engine.sink = _TallySink(exchange.engine.sink, tally)
    await exchange.start()
    sampler = asyncio.create_task(_sampler(exchange, tally), name="soak_sampler")
    urls = {
        "base_url": exchange.base_url, "ws_url": exchange.ws_url,
        "reference_url": exchange.reference_url(),
    }  # fmt: skip
    print(json.dumps(urls), flush=True)
    try:
        await stop.wait()
    finally:
        sampler.cancel()
        doc = tally.document()
        doc["open_orders_at_end"] = exchange.engine.open_order_count()
        doc["fee_multiplier"] = args.fee_multiplier
        await exchange.stop()
        tmp = Path(args.out).with_suffix(".tmp")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rocky_bot.bench.soak_exchange")
    parser.add_argument("--out", required=True)
    parser.add_argument("--fee-multiplier", type=float, default=1.0)
    parser.add_argument("--vol", type=float, default=0.6)
    parser.add_argument("--tick-rate", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--weight-limit", type=int, default=2400)
    args = parser.parse_args(argv)
    from rocky_bot.cli import run_async
    from rocky_bot.ops.logs import configure_logging

    configure_logging("json", "warning")
    return run_async(run(args))


if __name__ == "__main__":
    sys.exit(main())
