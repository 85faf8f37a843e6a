"""One bench run's timeline, in three processes on 127.0.0.1 (see `run.py` for the command).

    exchange up → accounts minted → fleet launched → READY (levels published) → warm-up →
    the measurement window (fleet CPU from /proc, RSS) → SIGKILL → the fleet restarted at once
    → READY → `restart_s` more (every 429/418 the exchange answers is counted) → SIGTERM (exit 0,
    no order left behind) → the exchange stops and writes its recording → `measure.json`.

The restart is what a crash under systemd looks like (`Restart=on-failure`, 5 s later; here at
once, the harder case): the dead process's last minute of weight still counts at the exchange
when the new one sets itself up. Without it (`restart_s=0`) the first fleet gets the SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rocky_bot.bench.procs import (
    machine_info,
    proc_cpu_split,
    rocky_env_overrides,
    start_exchange,
    stop_child,
)
from rocky_bot.bench.shards import Shards, plan_shards
from rocky_bot.exchange.paths import ApiPaths
from rocky_bot.funnel import funnel_ids, parse_account_id

#: Settings the analysis needs, copied into the report as the fleet saw them.
RECORDED_SETTINGS = (
    "use_modify", "user_stream", "taker_ioc", "poll_each_iteration", "band_wakeups",
    "drift_jitter", "anchor_drift_bps", "ladder_drift_bps", "deep_drift_share",
    "deadman_countdown_s", "deadman_heartbeat_s", "reconcile_interval_s", "balance_interval_s",
    "tape_max_gap_s", "taker_lean", "log_level", "balance_path",
)  # fmt: skip
#: The user stream's listenKey keepalive (UserStream's default; not a setting).
KEEPALIVE_S = 1800.0


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
    profile: str = "ours"
    restart_s: float = 60.0  # after SIGKILL and an immediate restart; 0 skips it
    env: dict[str, str] = field(default_factory=dict)  # the profile's ROCKY_* settings
    weight_limit: int = 2400  # one IP's; the exchange allows one per shard
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")


def periodic_duties(s: Any) -> list[list[Any]]:
    """The fleet's periodic REST duties (method, path, period, counted like): weight.Periodic.

    The wallet is read every `balance_interval_s` by each account that read it at set-up, where
    one account call reads wallet and positions together (`AccountUpkeep.read_account`).
    """
    set_up_read = ["GET", ApiPaths().account]
    duties: list[list[Any]] = [["GET", s.balance_path, s.balance_interval_s, set_up_read]]
    if s.deadman_countdown_s > 0:
        duties.append(["POST", "/fapi/v1/countdownCancelAll", s.deadman_heartbeat_s, None])
    if s.user_stream:
        duties.append(["PUT", "/fapi/v1/listenKey", KEEPALIVE_S, ["POST", "/fapi/v1/listenKey"]])
        duties.append(["GET", "/fapi/v1/openOrders", s.reconcile_interval_s, None])
    return duties


async def run_bench(cfg: BenchConfig, workdir: Path) -> dict[str, Any]:
    from rocky_bot.bench.report import report_from
    from rocky_bot.keys import write_keys
    from rocky_bot.ops.onboarding import mint_accounts
    from rocky_bot.settings import Settings

    machine = machine_info()
    token = secrets.token_hex(16)
    env = {
        **cfg.env,
        "ROCKY_SYMBOLS": ",".join(cfg.symbols),
        "ROCKY_KEYS_PATH": str(workdir / "keys.json"),
        "ROCKY_METRICS_HOST": "127.0.0.1",
        "ROCKY_METRICS_PORT": "0",
        "ROCKY_LOG_FORMAT": "json",
        "ROCKY_WEIGHT_LIMIT_PER_MIN": str(cfg.weight_limit),
    }
    # As the child reads them: our environment with `env` on top.
    settings = Settings(_env_file=None, **{k[6:].lower(): v for k, v in env.items()})
    groups = plan_shards(settings, cfg.accounts)
    exchange, base_url, ws_url = await start_exchange(
        workdir, token, vol=cfg.vol, tick_rate=cfg.tick_rate, seed=cfg.seed,
        weight_limit=cfg.weight_limit, symbols=cfg.symbols,
    )  # fmt: skip
    # the reference price, its streams following each shard's symbols
    env["ROCKY_FEED_URL"] = f"{ws_url}/reference/stream"
    fleet = Shards(workdir, env, groups, cfg.seed)
    ctx: dict[str, Any] = {}
    try:
        ids = funnel_ids(cfg.accounts)
        minted = await mint_accounts(base_url, token, ids, cfg.wallet_usd)
        write_keys(workdir / "keys.json", base_url, minted)
        overrides = rocky_env_overrides()
        caps = {i: settings.cap_for(parse_account_id(i).layer) for i in ids}
        launched = time.time()
        await fleet.start()
        ready_at = await fleet.wait_ready(cfg.ready_timeout_s)
        published = fleet.published()
        await asyncio.sleep(cfg.warmup_s)
        t0, cpu0, xcpu0 = time.time(), fleet.cpu_split(), proc_cpu_split(exchange.pid)
        rss_peak_window = 0.0
        while time.time() < t0 + cfg.duration_s:
            await asyncio.sleep(min(1.0, max(0.0, t0 + cfg.duration_s - time.time())))
            fleet.check_alive()
            rss_peak_window = max(rss_peak_window, fleet.mem_mb()["VmRSS"])
        t1, cpu1, xcpu1 = time.time(), fleet.cpu_split(), proc_cpu_split(exchange.pid)
        mem = fleet.mem_mb()
        restart: dict[str, Any] = {}
        if cfg.restart_s > 0:
            restart["killed_at"] = time.time()
            await fleet.kill()
            await fleet.start("fleet-restart.log")
            restart["ready_at"] = await fleet.wait_ready(cfg.ready_timeout_s)
            await asyncio.sleep(cfg.restart_s)
            restart["until"] = time.time()
        stop_started = time.monotonic()
        stop_at = time.time()
        exit_code = await fleet.stop(settings.stop_timeout_s + 10)
        ctx = {
            "window": (t0, t1),
            "launched": launched,
            "ready_at": ready_at,
            "stop_at": restart.get("killed_at", stop_at),
            "restart": restart,
            "fleet": {
                "cpu_s": sum(cpu1) - sum(cpu0),
                "cpu_user_s": cpu1[0] - cpu0[0],
                "cpu_system_s": cpu1[1] - cpu0[1],
                "rss_mb_peak": mem.get("VmHWM"),
                "rss_mb_window_max": rss_peak_window,
                "startup_to_ready_s": ready_at - launched,
                "exit_code": exit_code,
                "stop_s": time.monotonic() - stop_started,
                "shards": [list(g) for g in groups],
            },
            "exchange_cpu_s": sum(xcpu1) - sum(xcpu0),
            "published_levels": published,
            "caps": caps,
            "periodic": periodic_duties(settings),
            "settings": {
                **{k: v for k, v in asdict(cfg).items() if k != "env"},
                "profile_env": cfg.env,
                "env_overrides": overrides,
                **{k: getattr(settings, k) for k in RECORDED_SETTINGS},
            },
        }
    finally:
        if fleet.running():
            await fleet.stop(20)
        await stop_child(exchange, 20)
    ctx["fleet"]["log"] = fleet_log_summary(*fleet.first_logs())
    ctx["machine"] = machine
    ctx["accounts"] = cfg.accounts
    if cfg.feed_bench_frames:
        from rocky_bot.bench.feed import feed_benchmark

        ctx["feed"] = feed_benchmark(cfg.feed_bench_frames)
    (workdir / "measure.json").write_text(json.dumps(ctx, default=json_default))
    return report_from(workdir)


def fleet_log_summary(*logs: Path) -> dict[str, Any]:
    """Counts of the fleet's warning/error events (what went wrong, not how often it was fine),
    over every shard's log."""
    levels: dict[str, int] = {}
    events: dict[str, int] = {}
    lines = 0
    for raw in (raw for log in logs if log.exists() for raw in log.open("rb")):
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


def json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
