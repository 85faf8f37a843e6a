"""`rocky-bot bench`: run the real fleet against the sandbox and measure it against DESIGN.md §5.

Three processes, so that what is measured is the fleet's own:

    bench (this)  ── mints accounts, writes a mode-600 keys file, samples /proc, writes the report
    ├─ exchange   `python -m rocky_bot.bench.probe`: the sandbox + a recorder (bench_probe.py)
    └─ fleet      `python -m rocky_bot.bench.procs fleet --seed S`: exactly `rocky-bot run`
                  (same settings from ROCKY_* env, same `run_daemon`), but with a seeded Fleet,
                  so the bench can re-derive each maker's jittered drift and judge its bands.

Timeline: exchange up → accounts minted → fleet started → `fleet_ready` seen in its JSON log →
`warmup_s` (loops stagger their start) → the measurement window of `duration_s` (fleet CPU
from /proc/<pid>/stat, RSS from /proc/<pid>/status) → SIGTERM to the fleet (it must exit 0 and
leave no order behind) → SIGTERM to the exchange, which writes what it recorded → analysis
(`bench_analysis`, `bench_samples`, `bench_report`) → JSON report + table. Everything listens
on and talks to 127.0.0.1 only.

Any ROCKY_* variable in the bench's environment reaches the fleet (so a setting can be A/B
tested) and is recorded in the report. With more than 30 accounts the exchange's and the
fleet's IP weight limit are scaled by ⌈N/30⌉ (N accounts would be spread over that many IPs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rocky_bot.bench.procs import (
    machine_info,
    proc_cpu_s,
    proc_mem_mb,
    rocky_env_overrides,
    start_exchange,
    start_fleet,
    stop_child,
    tail_of,
    wait_fleet_ready,
)
from rocky_bot.bench.report import Level, MeasureContext, build_report, format_table
from rocky_bot.funnel import funnel_ids

#: Keep the bench's working directory (keys, logs, probe.json) here instead of a temp dir.
WORKDIR_ENV = "ROCKY_BENCH_WORKDIR"
#: Seed of the price path and of the fleet's randomness (default 1: runs are comparable).
SEED_ENV = "ROCKY_BENCH_SEED"


@dataclass(frozen=True, slots=True)
class BenchConfig:
    duration_s: float = 120.0
    accounts: int = 30
    vol: float = 0.6
    tick_rate: float = 100.0  # bookTicker messages per second per symbol
    seed: int = 1
    warmup_s: float = 5.0
    wallet_usd: float = 100.0
    ready_timeout_s: float = 180.0
    feed_bench_frames: int = 40_000  # 0 skips the feed micro-benchmark


def weight_limit_for(accounts: int) -> int:
    return 2400 * max(1, math.ceil(accounts / 30))


# --- /proc --------------------------------------------------------------------------------------


# --- what the fleet will do ------------------------------------------------------------------


async def maker_levels(settings: Any, keys: Any, seed: int) -> list[Level]:
    """Every maker level (account × symbol × side) with its offset and its jittered drift.

    The drift is re-derived by building a Fleet with the child's seed and reading its maker
    loops, so the bench follows however `Fleet` draws the jitter (no formula copied here).
    """
    from rocky_bot.fleet import Fleet
    from rocky_bot.strategies.maker import MakerLoop

    fleet = Fleet(settings, keys, seed=seed)
    fleet.build({})
    try:
        levels = []
        for loop in fleet.loops:
            if isinstance(loop, MakerLoop):
                spec = loop.ctx.spec
                levels += [
                    Level(spec.account_id, loop.symbol, side.value, spec.offset_bps, loop.drift_bps)
                    for side in loop.sides
                ]
        return levels
    finally:
        await asyncio.gather(*(ctx.account.client.aclose() for ctx in fleet.contexts))


def fleet_log_summary(log: Path) -> dict[str, Any]:
    """Counts of the fleet's warning/error events (what went wrong, not how often it was fine)."""
    levels: dict[str, int] = {}
    events: dict[str, int] = {}
    if not log.exists():
        return {"lines": 0}
    lines = 0
    with log.open("rb") as f:
        for raw in f:
            lines += 1
            try:
                doc = json.loads(raw)
            except ValueError:
                levels["unparsed"] = levels.get("unparsed", 0) + 1
                continue
            level = str(doc.get("level", "?"))
            levels[level] = levels.get(level, 0) + 1
            if level in ("warning", "error", "critical"):
                name = str(doc.get("event", "?"))
                events[name] = events.get(name, 0) + 1
    top = dict(sorted(events.items(), key=lambda kv: -kv[1])[:15])
    return {"lines": lines, "by_level": levels, "warnings_and_errors": top}


# --- the run ------------------------------------------------------------------------------------


async def run_bench(cfg: BenchConfig, workdir: Path) -> dict[str, Any]:
    from rocky_bot.keys import load_keys, write_keys
    from rocky_bot.ops.onboarding import mint_accounts
    from rocky_bot.settings import Settings

    machine = machine_info()
    token = secrets.token_hex(16)
    exchange, base_url, ws_url = await start_exchange(
        workdir, token, vol=cfg.vol, tick_rate=cfg.tick_rate, seed=cfg.seed,
        weight_limit=weight_limit_for(cfg.accounts),
    )  # fmt: skip
    fleet = None
    ctx: dict[str, Any] = {}
    try:
        ids = funnel_ids(cfg.accounts)
        minted = await mint_accounts(base_url, token, ids, cfg.wallet_usd)
        keys_path = workdir / "keys.json"
        write_keys(keys_path, base_url, minted)
        streams = "/".join(f"{s.lower()}@bookTicker" for s in ("BTCUSDT", "ETHUSDT"))
        env = {
            "ROCKY_KEYS_PATH": str(keys_path),
            "ROCKY_FEED_URL": f"{ws_url}/reference/stream?streams={streams}",  # reference price
            "ROCKY_METRICS_HOST": "127.0.0.1",
            "ROCKY_METRICS_PORT": "0",
            "ROCKY_LOG_FORMAT": "json",
            "ROCKY_WEIGHT_LIMIT_PER_MIN": str(weight_limit_for(cfg.accounts)),
        }
        overrides = rocky_env_overrides()
        # The child reads these from its environment; kwargs win over env here the same way.
        settings = Settings(
            _env_file=None, keys_path=keys_path, feed_url=env["ROCKY_FEED_URL"],
            metrics_host="127.0.0.1", metrics_port=0, log_format="json",
            weight_limit_per_min=weight_limit_for(cfg.accounts),
        )  # fmt: skip
        keys = load_keys(keys_path)
        levels = await maker_levels(settings, keys, cfg.seed)
        caps = {a.account_id: settings.cap_for(a.spec.layer) for a in keys.accounts}
        launched = time.time()
        fleet = await start_fleet(workdir, env, cfg.seed)
        ready_at = await wait_fleet_ready(fleet, workdir / "fleet.log", cfg.ready_timeout_s)
        await asyncio.sleep(cfg.warmup_s)
        t0, cpu0 = time.time(), proc_cpu_s(fleet.pid)
        xcpu0 = proc_cpu_s(exchange.pid)
        rss_peak_window = 0.0
        while time.time() < t0 + cfg.duration_s:
            await asyncio.sleep(min(1.0, max(0.0, t0 + cfg.duration_s - time.time())))
            if fleet.returncode is not None:
                tail = tail_of(workdir / "fleet.log")
                raise RuntimeError(f"fleet exited ({fleet.returncode}) while measured: {tail}")
            rss_peak_window = max(rss_peak_window, proc_mem_mb(fleet.pid).get("VmRSS", 0.0))
        t1, cpu1 = time.time(), proc_cpu_s(fleet.pid)
        xcpu1 = proc_cpu_s(exchange.pid)
        mem = proc_mem_mb(fleet.pid)
        stop_started = time.monotonic()
        exit_code = await stop_child(fleet, settings.stop_timeout_s + 10)
        ctx = {
            "window": (t0, t1),
            "fleet": {
                "cpu_s": cpu1 - cpu0,
                "rss_mb_peak": mem.get("VmHWM"),
                "rss_mb_window_max": rss_peak_window,
                "startup_to_ready_s": ready_at - launched,
                "exit_code": exit_code,
                "stop_s": time.monotonic() - stop_started,
            },
            "exchange_cpu_s": xcpu1 - xcpu0,
            "levels": [asdict(lv) for lv in levels],
            "caps": caps,
            "settings": {
                **asdict(cfg),
                "weight_limit_per_min": weight_limit_for(cfg.accounts),
                "env_overrides": overrides,
                "use_modify": settings.use_modify,
                "user_stream": settings.user_stream,
                "drift_jitter": settings.drift_jitter,
                "log_level": settings.log_level,
            },
        }
    finally:
        if fleet is not None and fleet.returncode is None:
            await stop_child(fleet, 20)
        await stop_child(exchange, 20)
    ctx["fleet"]["log"] = fleet_log_summary(workdir / "fleet.log")
    ctx["machine"] = machine
    ctx["accounts"] = cfg.accounts
    if cfg.feed_bench_frames:
        from rocky_bot.bench.feed import feed_benchmark

        ctx["feed"] = feed_benchmark(cfg.feed_bench_frames)
    (workdir / "measure.json").write_text(json.dumps(ctx, default=_json_default))
    return report_from(workdir)


def report_from(workdir: Path) -> dict[str, Any]:
    """The report from a run's recording (`probe.json`) and the bench's notes (`measure.json`).

    Kept apart from the run so a kept work directory (ROCKY_BENCH_WORKDIR) can be analysed
    again: `python -m rocky_bot.bench report DIR`.
    """
    probe = json.loads((workdir / "probe.json").read_text())
    ctx = json.loads((workdir / "measure.json").read_text())
    levels = [
        Level(lv["account"], lv["symbol"], lv["side"], Decimal(str(lv["offset_bps"])),
              Decimal(str(lv["drift_bps"])))
        for lv in ctx["levels"]
    ]  # fmt: skip
    measure = MeasureContext(
        window=tuple(ctx["window"]), levels=levels, caps=ctx["caps"], accounts=ctx["accounts"]
    )
    return build_report(
        probe, measure, fleet=ctx["fleet"], exchange_cpu_s=ctx["exchange_cpu_s"],
        machine=ctx["machine"], settings=ctx["settings"], feed=ctx.get("feed"),
    )  # fmt: skip


def cmd_bench(args: argparse.Namespace) -> int:
    from rocky_bot.cli import run_async
    from rocky_bot.ops.logs import configure_logging

    configure_logging("auto", "warning")

    cfg = BenchConfig(
        duration_s=args.duration, accounts=args.accounts, vol=args.vol, tick_rate=args.tick_rate,
        seed=int(os.environ.get(SEED_ENV, "1")),
    )  # fmt: skip
    print(
        f"rocky-bot bench: {cfg.accounts} accounts, {cfg.duration_s:g} s "
        f"(+ set-up and {cfg.warmup_s:g} s warm-up), vol {cfg.vol}, {cfg.tick_rate:g} msgs/s "
        f"per symbol, seed {cfg.seed}; exchange and fleet in their own processes on 127.0.0.1",
        flush=True,
    )
    keep = os.environ.get(WORKDIR_ENV)
    if keep:  # debugging: keep the logs and the exchange's recording
        Path(keep).mkdir(parents=True, exist_ok=True)
        report = run_async(run_bench(cfg, Path(keep)))
    else:
        with tempfile.TemporaryDirectory(prefix="rocky-bench-") as tmp:
            report = run_async(run_bench(cfg, Path(tmp)))
    out: Path = args.out
    out.write_text(json.dumps(report, indent=2, default=_json_default) + "\n", encoding="utf-8")
    print(format_table(report))
    print(f"report: {out}")
    return 0


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def report_main(argv: list[str]) -> int:
    report = report_from(Path(argv[0]))
    print(format_table(report))
    if len(argv) > 1:
        Path(argv[1]).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0
