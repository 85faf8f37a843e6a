"""`rocky-bot soak --days D --duration S`: a week of wallets in an hour, judged by the exchange.

An accelerated life test: it compresses the *money*, not the clocks. The sandbox charges its
fees × D·86400/S, so the wallets drain as they would over D days while every clock (loops,
reconnects, keepalives, breaker cooldowns) runs in real time; the long clocks themselves are
tested over simulated days with a virtual clock (tests/unit/test_long_clocks*.py). Three
processes, all on 127.0.0.1:

    soak (this)   mints the accounts, runs the funding timer (`ops.funding.fund`, the code of
    │             `rocky-bot fund`, every hour ÷ compression), samples the fleet's RSS, reports
    ├─ exchange   `python -m rocky_bot.bench.soak_exchange`: the sandbox with multiplied fees and
    │             a bounded tally (trades per second, funnel samples, wallets, fees)
    └─ fleet      `python -m rocky_bot.bench.procs fleet`: `rocky-bot run`'s code path

The breaker's expected cost per traded notional is multiplied like the fees (the daemon is told
the exchange's fees, as an operator would set ROCKY_BREAKER_*_COST_BPS for a dearer venue), and
the exchange's weight limit is doubled to absorb the funding timer's reads, which come 168×
more often than in production.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rocky_bot.bench.procs import (
    machine_info,
    proc_mem_mb,
    start_fleet,
    stop_child,
    tail_of,
    wait_fleet_ready,
)
from rocky_bot.bench.soak_report import (
    dead_minutes,
    format_table,
    funnel_share,
    log_figures,
    per_role,
    rss_slope,
    targets,
)

RSS_EVERY_S = 5.0
MIN_FUNDING_INTERVAL_S = 5.0
FUNDING_ROUND_WEIGHT = 160


@dataclass(frozen=True, slots=True)
class SoakConfig:
    days: float = 7.0
    duration_s: float = 3600.0
    seed: int = 1
    vol: float = 0.6
    tick_rate: float = 20.0
    wallet_usd: float = 100.0
    fund_floor: float = 0.5
    fund_to: float = 100.0
    warmup_s: float = 10.0
    ready_timeout_s: float = 180.0

    @property
    def compression(self) -> float:
        """Simulated seconds per real second: what the fees are multiplied by."""
        return self.days * 86400 / self.duration_s

    @property
    def funding_interval_s(self) -> float:
        """The hourly funding timer, compressed like the money (at most every 5 s)."""
        return max(MIN_FUNDING_INTERVAL_S, 3600 / self.compression)

    @property
    def weight_limit(self) -> int:
        """The fleet's 2,400 a minute plus what the compressed funding timer reads (one
        exchangeInfo and one balance per account, ~160 weight a round): the fleet's budget is
        what is measured, not the soak's own reads."""
        return 2400 + math.ceil(60 / self.funding_interval_s * FUNDING_ROUND_WEIGHT)


async def start_exchange(workdir: Path, token: str, cfg: SoakConfig):
    log = (workdir / "exchange.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot.bench.soak_exchange", "--out",
        str(workdir / "tally.json"), "--fee-multiplier", repr(cfg.compression),
        "--vol", str(cfg.vol), "--tick-rate", str(cfg.tick_rate), "--seed", str(cfg.seed),
        "--weight-limit", str(cfg.weight_limit),
        stdout=asyncio.subprocess.PIPE, stderr=log, cwd=workdir,
        env={**_base_env(), "ROCKY_BENCH_ADMIN_TOKEN": token},
    )  # fmt: skip
    log.close()
    assert proc.stdout is not None
    try:
        urls = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
    except (TimeoutError, ValueError) as exc:
        await stop_child(proc, 5)
        raise RuntimeError(
            f"soak exchange did not start ({exc!r}): {tail_of(workdir / 'exchange.log')}"
        ) from None
    return proc, urls


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "ROCKY_BENCH_ADMIN_TOKEN"}


def fleet_env(cfg: SoakConfig, keys_path: Path, feed_url: str, settings: Any) -> dict[str, str]:
    c = cfg.compression
    return {
        "ROCKY_KEYS_PATH": str(keys_path),
        "ROCKY_FEED_URL": feed_url,
        "ROCKY_METRICS_HOST": "127.0.0.1",
        "ROCKY_METRICS_PORT": "0",
        "ROCKY_LOG_FORMAT": "json",
        "ROCKY_WEIGHT_LIMIT_PER_MIN": str(cfg.weight_limit),
        "ROCKY_BREAKER_TAKER_COST_BPS": repr(settings.breaker_taker_cost_bps * c),
        "ROCKY_BREAKER_MAKER_COST_BPS": repr(settings.breaker_maker_cost_bps * c),
        "ROCKY_WALLET_SEED_USD": repr(cfg.wallet_usd),
    }


async def funding_timer(cfg: SoakConfig, settings, keys, token: str, stop: asyncio.Event, tally):
    """`rocky-bot fund` every compressed hour: the same `fund()` the systemd timer runs."""
    from rocky_bot.ops.funding import fund
    from rocky_bot.waits import wait_event

    while not await wait_event(stop, cfg.funding_interval_s):
        result = await fund(settings, keys, token, floor=cfg.fund_floor, to_usd=cfg.fund_to)
        tally["rounds"] += 1
        tally["fundings"] += len(result.funded)
        tally["failed"] += len(result.failed)


async def run_soak(cfg: SoakConfig, workdir: Path) -> dict[str, Any]:
    from rocky_bot.funnel import funnel_ids
    from rocky_bot.keys import load_keys, write_keys
    from rocky_bot.ops.onboarding import mint_accounts
    from rocky_bot.settings import Settings

    token = secrets.token_hex(16)
    exchange, urls = await start_exchange(workdir, token, cfg)
    fleet = None
    funding = {"rounds": 0, "fundings": 0, "failed": 0}
    rss: list[tuple[float, float]] = []
    try:
        minted = await mint_accounts(urls["base_url"], token, funnel_ids(30), cfg.wallet_usd)
        keys_path = workdir / "keys.json"
        write_keys(keys_path, urls["base_url"], minted)
        keys = load_keys(keys_path)
        settings = Settings(
            _env_file=None, keys_path=keys_path, weight_limit_per_min=cfg.weight_limit,
            wallet_seed_usd=cfg.wallet_usd,
        )  # fmt: skip
        env = fleet_env(cfg, keys_path, urls["reference_url"], settings)
        launched = time.time()
        fleet = await start_fleet(workdir, env, cfg.seed)
        log = workdir / "fleet.log"
        ready_at = await wait_fleet_ready(fleet, log, cfg.ready_timeout_s)
        stop = asyncio.Event()
        timer = asyncio.create_task(funding_timer(cfg, settings, keys, token, stop, funding))
        await asyncio.sleep(cfg.warmup_s)
        t0, log_start = time.time(), log.stat().st_size
        while time.time() < t0 + cfg.duration_s and not timer.done():
            if fleet.returncode is not None:
                raise RuntimeError(f"fleet exited ({fleet.returncode}): {tail_of(log)}")
            rss.append((time.time(), proc_mem_mb(fleet.pid).get("VmRSS", 0.0)))
            await asyncio.sleep(min(RSS_EVERY_S, max(0.0, t0 + cfg.duration_s - time.time())))
        t1, log_end = time.time(), log.stat().st_size
        stop.set()
        if timer.done():
            timer.result()  # a crashed timer raises here
        timer.cancel()  # a round in flight is not waited for
        await asyncio.gather(timer, return_exceptions=True)
        exit_code = await stop_child(fleet, settings.stop_timeout_s + 10)
    finally:
        if fleet is not None and fleet.returncode is None:
            await stop_child(fleet, 20)
        await stop_child(exchange, 20)
    tally = json.loads((workdir / "tally.json").read_text())
    symbols = list(settings.symbols)
    dead, minutes = dead_minutes(tally["trades"], symbols, t0, t1)
    funnel = funnel_share(tally["samples"], t0, t1)
    logs = log_figures(log, log_start, log_end, t1 - t0, cfg.compression)
    report: dict[str, Any] = {
        "simulated_days": round((t1 - t0) * cfg.compression / 86400, 3),
        "minutes": minutes,
        "dead_minutes": dead,
        "breaker_trips": logs.pop("breaker_trips"),
        "fundings": funding["fundings"],
        "funding_rounds": funding["rounds"],
        "funding_failures": funding["failed"],
        "min_wallet_usd": None if tally["min_wallet"] is None else round(tally["min_wallet"], 2),
        "min_wallet_account": tally["min_wallet_account"],
        "rss_mb_max": round(max((mb for _, mb in rss), default=0.0), 1),
        "rss_slope_mb_per_h": rss_slope(rss, t0),
        **logs,
        "full_funnel_share": funnel["full_funnel_share"],
        "funnel": funnel,
        "exit_code": exit_code,
        "open_orders_left": tally["open_orders_at_end"],
        "per_role_at_real_fees": per_role(
            tally["accounts"], cfg.compression, t1 - ready_at, [a.account_id for a in keys.accounts]
        ),
        "startup_to_ready_s": round(ready_at - launched, 1),
        "config": {
            **asdict(cfg),
            "compression": round(cfg.compression, 2),
            "funding_interval_s": round(cfg.funding_interval_s, 2),
            "weight_limit_per_min": cfg.weight_limit,
        },
        "machine": machine_info(),
    }
    report["targets"] = targets(report)
    return report


def cmd_soak(args: argparse.Namespace) -> int:
    from rocky_bot.cli import run_async
    from rocky_bot.ops.logs import configure_logging

    configure_logging("auto", "warning")
    cfg = SoakConfig(days=args.days, duration_s=args.duration, seed=args.seed,
                     tick_rate=args.tick_rate)  # fmt: skip
    print(
        f"rocky-bot soak: {cfg.days:g} simulated days in {cfg.duration_s:g} s (fees ×"
        f"{cfg.compression:.1f}, funding every {cfg.funding_interval_s:.1f} s); exchange and "
        "fleet in their own processes on 127.0.0.1",
        flush=True,
    )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        report = run_async(run_soak(cfg, args.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="rocky-soak-") as tmp:
            report = run_async(run_soak(cfg, Path(tmp)))
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(format_table(report))
    print(f"report: {args.out}")
    return 0 if all(report["targets"].values()) else 1
