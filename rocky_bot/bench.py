"""`rocky-bot bench`: run the real fleet against the sandbox and measure it against DESIGN.md §5.

Three processes, so that what is measured is the fleet's own:

    bench (this)  ── mints accounts, writes a mode-600 keys file, samples /proc, writes the report
    ├─ exchange   `python -m rocky_bot.bench_probe`: the sandbox + a recorder (bench_probe.py)
    └─ fleet      `python -m rocky_bot.bench fleet --seed S`: exactly `rocky-bot run` (same
                  settings from ROCKY_* env, same `run_daemon`), but with a seeded Fleet, so the
                  bench can re-derive each maker's jittered drift and judge its bands exactly.

Timeline: exchange up → accounts minted → fleet started → `fleet_ready` seen in its JSON log →
`warmup_s` (loops stagger their start) → the measurement window of `duration_s` (fleet CPU
from /proc/<pid>/stat, RSS from /proc/<pid>/status) → SIGTERM to the fleet (it must exit 0 and
leave no order behind) → SIGTERM to the exchange, which writes what it recorded → analysis
(`bench_report`) → JSON report + table. Everything listens on and talks to 127.0.0.1 only.

Any ROCKY_* variable in the bench's environment reaches the fleet (so a setting can be A/B
tested) and is recorded in the report. With more than 30 accounts the exchange's and the
fleet's IP weight limit are scaled by ⌈N/30⌉ (N accounts would be spread over that many IPs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rocky_bot.bench_report import Level, MeasureContext, build_report, format_table
from rocky_bot.funnel import funnel_ids

_READY_EVENT = "fleet_ready"
#: Keep the bench's working directory (keys, logs, probe.json) here instead of a temp dir.
WORKDIR_ENV = "ROCKY_BENCH_WORKDIR"
#: Seed of the price path and of the fleet's randomness (default 1: runs are comparable).
SEED_ENV = "ROCKY_BENCH_SEED"
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def proc_mem_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) in MiB from /proc/<pid>/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_mb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        mem_mb = int(first.split()[1]) // 1024
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mb": mem_mb,
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# --- children -----------------------------------------------------------------------------------


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ROCKY_BENCH_ADMIN_TOKEN", None)
    env.update(extra)
    return env


def rocky_env_overrides() -> dict[str, str]:
    """ROCKY_* settings the caller set (passed on to the fleet and recorded in the report)."""
    hidden = ("TOKEN", "SECRET", "KEY")
    return {
        k: ("<set>" if any(h in k for h in hidden) else v)
        for k, v in sorted(os.environ.items())
        if k.startswith("ROCKY_") and not k.startswith("ROCKY_BENCH_")
    }


async def start_exchange(
    cfg: BenchConfig, workdir: Path, token: str
) -> tuple[asyncio.subprocess.Process, str, str]:
    log = (workdir / "exchange.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot.bench_probe", "--out", str(workdir / "probe.json"),
        "--vol", str(cfg.vol), "--tick-rate", str(cfg.tick_rate), "--seed", str(cfg.seed),
        "--weight-limit", str(weight_limit_for(cfg.accounts)),
        stdout=asyncio.subprocess.PIPE, stderr=log, cwd=workdir,
        env=_child_env({"ROCKY_BENCH_ADMIN_TOKEN": token}),
    )  # fmt: skip
    log.close()
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        urls = json.loads(line)
    except (TimeoutError, ValueError) as exc:
        await stop_child(proc, 5)
        tail = _tail(workdir / "exchange.log")
        raise RuntimeError(f"bench exchange did not start ({exc!r}): {tail}") from None
    return proc, urls["base_url"], urls["ws_url"]


async def start_fleet(
    cfg: BenchConfig, workdir: Path, env: dict[str, str]
) -> asyncio.subprocess.Process:
    log = (workdir / "fleet.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot.bench", "fleet", "--seed", str(cfg.seed),
        stdout=asyncio.subprocess.DEVNULL, stderr=log, cwd=workdir, env=_child_env(env),
    )  # fmt: skip
    log.close()
    return proc


async def wait_fleet_ready(proc: asyncio.subprocess.Process, log: Path, timeout: float) -> float:
    """Wait for the fleet's `fleet_ready` log event; returns the time it was seen."""
    deadline = time.monotonic() + timeout
    offset = 0
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"fleet exited with {proc.returncode} before ready: {_tail(log)}")
        with log.open("rb") as f:
            f.seek(offset)
            chunk = f.read()
        cut = chunk.rfind(b"\n") + 1
        offset += cut
        if _READY_EVENT.encode() in chunk[:cut]:
            return time.time()
        await asyncio.sleep(0.05)
    raise RuntimeError(f"fleet not ready within {timeout:.0f} s (see {log})")


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


async def stop_child(proc: asyncio.subprocess.Process, timeout: float) -> int | None:
    """SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit code (None if killed)."""
    if proc.returncode is not None:
        return proc.returncode
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return None


# --- what the fleet will do ------------------------------------------------------------------


async def maker_levels(settings: Any, keys: Any, seed: int) -> list[Level]:
    """Every maker level (account × symbol × side) with its offset and its jittered drift.

    The drift is re-derived by building a Fleet with the child's seed and reading its maker
    loops, so the bench follows however `Fleet` draws the jitter (no formula copied here).
    """
    from rocky_bot.fleet import Fleet
    from rocky_bot.strategies.maker import MakerLoop

    fleet = Fleet(settings, keys, seed=seed)
    fleet._build({})
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
        await asyncio.gather(*(ctx.client.aclose() for ctx in fleet.contexts))


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
    from rocky_bot.onboarding import mint_accounts
    from rocky_bot.settings import Settings

    machine = machine_info()
    token = secrets.token_hex(16)
    exchange, base_url, ws_url = await start_exchange(cfg, workdir, token)
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
            "ROCKY_FEED_URL": f"{ws_url}/public/stream?streams={streams}",
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
        fleet = await start_fleet(cfg, workdir, env)
        ready_at = await wait_fleet_ready(fleet, workdir / "fleet.log", cfg.ready_timeout_s)
        await asyncio.sleep(cfg.warmup_s)
        t0, cpu0 = time.time(), proc_cpu_s(fleet.pid)
        xcpu0 = proc_cpu_s(exchange.pid)
        rss_peak_window = 0.0
        while time.time() < t0 + cfg.duration_s:
            await asyncio.sleep(min(1.0, max(0.0, t0 + cfg.duration_s - time.time())))
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
        from rocky_bot.bench_feed import feed_benchmark

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
    from rocky_bot.logs import configure_logging

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


# --- the fleet child ------------------------------------------------------------------------


def fleet_child(argv: list[str]) -> int:
    """`rocky-bot run`, seeded: the same settings, keys, logging and daemon, one Fleet seed."""
    from rocky_bot.cli import load_settings, run_async
    from rocky_bot.daemon import run_daemon
    from rocky_bot.fleet import Fleet
    from rocky_bot.keys import load_keys
    from rocky_bot.logs import configure_logging

    parser = argparse.ArgumentParser(prog="python -m rocky_bot.bench fleet")
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    settings = load_settings()
    keys = load_keys(settings.keys_path, allow_public_exchange=False)
    configure_logging(settings.log_format, settings.log_level)
    fleet = Fleet(settings, keys, seed=args.seed)
    return run_async(run_daemon(settings, keys, fleet=fleet))


def _report_main(argv: list[str]) -> int:
    report = report_from(Path(argv[0]))
    print(format_table(report))
    if len(argv) > 1:
        Path(argv[1]).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fleet":
        sys.exit(fleet_child(sys.argv[2:]))
    if len(sys.argv) > 2 and sys.argv[1] == "report":
        sys.exit(_report_main(sys.argv[2:]))
    sys.exit(
        "usage: python -m rocky_bot.bench fleet --seed N | report WORKDIR [OUT.json]"
        " (the benchmark itself: `rocky-bot bench`)"
    )
