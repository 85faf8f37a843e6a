"""`rocky-bot sandbox`: the sandbox exchange, 30 minted accounts and the real fleet, one process.

No credentials and no internet: the exchange and its price feed are local, the accounts are
minted through the same onboarding contract ops use, and the daemon runs unmodified against it.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import math
import os
import signal
import sys
import time
from decimal import Decimal

import httpx

from rocky_bot.budget import plan_for
from rocky_bot.config_errors import ConfigError
from rocky_bot.daemon import run_daemon
from rocky_bot.fleet import Fleet
from rocky_bot.funnel import funnel_ids, parse_account_id
from rocky_bot.keys import load_keys, write_keys
from rocky_bot.ops.admin_token import admin_token_if_given, token_source, write_token_file
from rocky_bot.ops.logs import configure_logging
from rocky_bot.ops.market_view import fetch_depth, trades_last_minute
from rocky_bot.ops.onboarding import mint_accounts
from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig, SymbolSpec
from rocky_bot.sandbox.listing import listed
from rocky_bot.settings import Settings, load_settings


def sandbox_settings(exchange: SandboxExchange, keys_path, **overrides) -> Settings:
    """The daemon follows the sandbox's reference price, its stand-in for Binance's feed."""
    return load_settings(keys_path=keys_path, feed_url=exchange.reference_url(), **overrides)


def sandbox_symbols(raw: str) -> tuple[SymbolSpec, ...]:
    try:
        return listed(raw.split(","))
    except ValueError as exc:
        raise ConfigError(f"sandbox --symbols: {exc}") from None


def weight_limit_for(symbols: tuple[str, ...]) -> int:
    """The IP budget the sandbox gives the fleet: one IP's (ROCKY_WEIGHT_LIMIT_PER_MIN), or as
    many as the planner says these symbols need (said in one line: in production, shards)."""
    settings = load_settings(symbols=symbols)
    plan = plan_for(settings, [parse_account_id(i) for i in funnel_ids(30)])
    ips = math.ceil(plan.total / plan.budget)
    if ips <= 1:
        return settings.weight_limit_per_min
    limit = settings.weight_limit_per_min * ips
    print(
        f"budget            {len(symbols)} symbols cost ~{plan.total:,.0f} weight/min, more "
        f"than one IP's {plan.budget:,.0f}: the sandbox allows {limit:,} (in production: "
        f'{ips} shards, README "Shards")'
    )
    return limit


async def run_sandbox(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    warn_if_reachable_from_outside(args.host)
    given_token = admin_token_if_given()
    specs = sandbox_symbols(args.symbols)
    symbols = tuple(spec.symbol for spec in specs)
    limit = weight_limit_for(symbols)
    exchange = SandboxExchange(
        SandboxConfig(
            host=args.host,
            port=args.port,
            admin_token=given_token,
            symbols=specs,
            annual_vol=args.vol,
            msgs_per_s=args.tick_rate,
            replay_path=args.replay,
            seed=args.seed,
            fee_multiplier=Decimal(str(args.fee_multiplier)),
            fleet_status_url=args.fleet_status_url,
            weight_limit_per_min=limit,
        )
    )
    try:
        await exchange.start()
    except OSError as exc:
        raise ConfigError(f"sandbox: cannot listen on {args.host}:{args.port}: {exc}") from None
    print(f"sandbox exchange  {exchange.base_url}  (REST /fapi/..., onboarding /admin/v1/...)")
    print(f"the page          {exchange.base_url}/")
    print(f"market data       {exchange.ws_url}/market/stream?streams=btcusdt@depth20/...")
    print(f"reference price   {exchange.reference_url()}  (the daemon's feed)")
    timer = None
    if args.duration:
        timer = loop.call_later(args.duration, stop.set)
    try:
        if given_token is None:  # written, never printed: stdout ends up in logs and scrollback
            write_token_file(args.token_out, exchange.admin_token)
            print(f"admin token       written to {args.token_out} (mode 600)")
        else:
            print(f"admin token       from {token_source()}")
        if args.no_fleet:
            await stop.wait()
            return 0
        minted = await mint_accounts(exchange.base_url, exchange.admin_token, funnel_ids(30), 100)
        write_keys(args.keys_out, exchange.base_url, minted)
        print(f"keys              {args.keys_out} (30 accounts, $100 each, mode 600)")
        settings = sandbox_settings(
            exchange, args.keys_out, symbols=symbols, weight_limit_per_min=limit
        )
        keys = load_keys(args.keys_out)
        fleet = Fleet(settings, keys)
        view = asyncio.create_task(live_view(exchange.base_url, args.view_every, stop, fleet))
        daemon = asyncio.create_task(
            run_daemon(
                settings, keys, stop=stop, install_signals=False, fleet=fleet,
                any_port_if_busy=True,
            )
        )  # fmt: skip
        await asyncio.wait(
            [daemon, asyncio.ensure_future(fleet.ready.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        print(f"status            {fleet.status_url}/status   (rocky-bot status --url ...)")
        if fleet.status_url:
            exchange.set_fleet_status_url(fleet.status_url)  # the page's fleet panel
        result = await daemon
        view.cancel()
        await asyncio.gather(view, return_exceptions=True)
        left = await open_orders_left(exchange)
        print(f"stopped cleanly; open orders left on the exchange: {left}")
        return result
    finally:
        if timer:
            timer.cancel()
        await exchange.stop()


def warn_if_reachable_from_outside(host: str) -> None:
    """One line on stderr when the sandbox listens beyond this machine: it speaks plain HTTP and
    its accounts are test accounts whose keys sit in plain files, fine on loopback only."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass  # a host name: it may resolve to anything
    print(
        f"rocky-bot sandbox: warning: listening on {host}, not loopback: the sandbox has no TLS "
        "(API keys, signatures and the admin token cross the network in clear text) and trades "
        "test accounts whose keys are kept in plain files; anyone who can reach the port can "
        "use them",
        file=sys.stderr,
        flush=True,
    )


async def open_orders_left(exchange: SandboxExchange) -> int:
    return exchange.engine.open_order_count()


async def live_view(base_url: str, every: float, stop: asyncio.Event, fleet: Fleet) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        while True:
            try:  # a view printed while stopping would show the book being emptied
                await asyncio.wait_for(stop.wait(), every)
                return
            except TimeoutError:
                pass
            lines = [time.strftime("%H:%M:%S")]
            for symbol in fleet.settings.symbols:
                try:
                    depth = await fetch_depth(client, symbol, 100)
                    trades = await trades_last_minute(client, symbol)
                except httpx.HTTPError as exc:
                    lines.append(f"  {symbol}: {exc}")
                    continue
                bid = depth.bids[0][0] if depth.bids else "-"
                ask = depth.asks[0][0] if depth.asks else "-"
                spread = f"{depth.spread_bps:.2f}" if depth.spread_bps is not None else "-"
                lines.append(
                    f"  {symbol}: bid {bid} ask {ask} spread {spread} bps  levels "
                    f"{len(depth.bids)}/{len(depth.asks)}  trades/min {trades}"
                )
            breakers = [c.account_id for c in fleet.contexts if c.breaker.state.value == "open"]
            lines.append(f"  breakers open: {len(breakers)} {' '.join(breakers)}".rstrip())
            print("\n".join(lines), flush=True)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from rocky_bot.cli import run_async

    level = os.environ.get("ROCKY_LOG_LEVEL", "warning")
    configure_logging("auto" if sys.stderr.isatty() else "json", level)
    return run_async(run_sandbox(args))
