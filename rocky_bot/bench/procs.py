"""The bench's child processes and what it reads of them: /proc, logs, start and stop.

    python -m rocky_bot.bench.procs fleet --seed N

is the fleet child: `rocky-bot run`'s code path (settings from ROCKY_* env, the keys file,
logging, `run_daemon`) with two differences: a seeded `Fleet` (runs are repeatable), and at READY
it publishes its maker levels (offset, jittered drift) to `levels.json` in its working directory,
which the bench checks against the settings before judging bands with them (`levels.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

READY_EVENT = "fleet_ready"
#: The loopback address a shard's REST requests leave from (127.0.0.2, ...; the bench's own).
SOURCE_IP_ENV = "ROCKY_BENCH_SOURCE_IP"
LEVELS_FILE = "levels.json"
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process (all its threads) from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[11]) / _CLK_TCK, int(fields[12]) / _CLK_TCK


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    return sum(proc_cpu_split(pid))


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
    workdir: Path, token: str, *, vol: float, tick_rate: float, seed: int, weight_limit: int,
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT"),
) -> tuple[asyncio.subprocess.Process, str, str]:  # fmt: skip
    """The sandbox + recorder (`bench_probe`) in its own process; returns it and its URLs."""
    log = (workdir / "exchange.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot.bench.probe", "--out", str(workdir / "probe.json"),
        "--vol", str(vol), "--tick-rate", str(tick_rate), "--seed", str(seed),
        "--weight-limit", str(weight_limit), "--symbols", ",".join(symbols),
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
        tail = tail_of(workdir / "exchange.log")
        raise RuntimeError(f"bench exchange did not start ({exc!r}): {tail}") from None
    return proc, urls["base_url"], urls["ws_url"]


async def start_fleet(
    workdir: Path, env: dict[str, str], seed: int, log_name: str = "fleet.log"
) -> asyncio.subprocess.Process:
    """The fleet (`fleet_child` below) in its own process, logging JSON to `log_name`."""
    log = (workdir / log_name).open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot.bench.procs", "fleet", "--seed", str(seed),
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
            raise RuntimeError(f"fleet exited with {proc.returncode} before ready: {tail_of(log)}")
        with log.open("rb") as f:
            f.seek(offset)
            chunk = f.read()
        cut = chunk.rfind(b"\n") + 1
        offset += cut
        if READY_EVENT.encode() in chunk[:cut]:
            return time.time()
        await asyncio.sleep(0.05)
    raise RuntimeError(f"fleet not ready within {timeout:.0f} s (see {log})")


def tail_of(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


async def kill_child(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL, as a crash or the OOM killer would: nothing is cancelled, nothing is closed."""
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()


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


def publish_levels(fleet: Any, path: Path) -> None:
    """Every maker level of a ready fleet, with its offset, jittered drift and size, as JSON."""
    from rocky_bot.strategies.maker import MakerLoop

    rows = [
        {"account": loop.ctx.spec.account_id, "symbol": loop.symbol, "side": side.value,
         "offset_bps": str(loop.ctx.spec.offset_bps), "drift_bps": str(loop.drift_bps),
         "qty": str(loop.quantity(fleet.feed.mid(loop.symbol)))}
        for loop in fleet.loops if isinstance(loop, MakerLoop) for side in loop.sides
    ]  # fmt: skip
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows))
    os.replace(tmp, path)


def source_bound(env_name: str):
    """A shard's REST from its own loopback address (127.0.0.N), so the exchange counts its
    weight per shard as it would per host: None (the default transport) when not asked."""
    source = os.environ.get(env_name)
    if not source:
        return None
    import httpx

    from rocky_bot.exchange.http_client import DEFAULT_MAX_CONNECTIONS, KEEPALIVE_S

    def transport() -> httpx.AsyncHTTPTransport:
        limits = httpx.Limits(
            max_connections=DEFAULT_MAX_CONNECTIONS,
            max_keepalive_connections=DEFAULT_MAX_CONNECTIONS, keepalive_expiry=KEEPALIVE_S,
        )  # fmt: skip
        return httpx.AsyncHTTPTransport(local_address=source, limits=limits)

    return transport


def fleet_child(argv: list[str]) -> int:
    """`rocky-bot run`, seeded: the same settings, keys, logging and daemon, one Fleet seed;
    its levels published at READY."""
    from rocky_bot.cli import run_async
    from rocky_bot.daemon import run_daemon
    from rocky_bot.fleet import Fleet
    from rocky_bot.keys import load_keys
    from rocky_bot.ops.logs import configure_logging
    from rocky_bot.ops.notify import SystemdNotifier
    from rocky_bot.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m rocky_bot.bench.procs fleet")
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    settings = load_settings()
    keys = load_keys(settings.keys_path, allow_public_exchange=False)
    configure_logging(settings.log_format, settings.log_level)
    fleet = Fleet(settings, keys, seed=args.seed, transport_factory=source_bound(SOURCE_IP_ENV))

    class Publishing(SystemdNotifier):
        def ready(self, status: str | None = None) -> None:
            publish_levels(fleet, Path(LEVELS_FILE))
            super().ready(status)

    return run_async(run_daemon(settings, keys, fleet=fleet, notifier=Publishing()))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fleet":
        sys.exit(fleet_child(sys.argv[2:]))
    sys.exit("usage: python -m rocky_bot.bench.procs fleet --seed N (started by `rocky-bot bench`)")
