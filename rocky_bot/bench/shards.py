"""The fleet under test as one or more shards by symbol: one process each, as production runs
them (`rocky-bot@.service`, one keys file, each shard its own `ROCKY_SYMBOLS`).

How many: what the budget planner says the symbols need (`budget.Plan.shards`), each shard
within one IP's limit, as production puts one shard per host or IP. Here each shard's REST
leaves from its own loopback address (127.0.0.1, 127.0.0.2, ...), so the exchange counts and
limits each shard's weight on its own, as Binance counts per IP; the report judges the weight
of the busiest address. CPU is every shard's, RSS the largest of them (each daemon's budget),
the exit code the worst, and the levels every shard's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rocky_bot.bench.levels import read_published
from rocky_bot.bench.procs import (
    LEVELS_FILE,
    SOURCE_IP_ENV,
    kill_child,
    proc_cpu_split,
    proc_mem_mb,
    start_fleet,
    stop_child,
    tail_of,
    wait_fleet_ready,
)
from rocky_bot.budget import plan_for
from rocky_bot.funnel import funnel_ids, parse_account_id


def plan_shards(settings: Any, accounts: int) -> list[tuple[str, ...]]:
    """The symbols split as the planner would have an operator split them."""
    return plan_for(settings, [parse_account_id(i) for i in funnel_ids(accounts)]).shards()


@dataclass
class Shards:
    workdir: Path
    env: dict[str, str]
    groups: list[tuple[str, ...]]
    seed: int
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def _dir(self, i: int) -> Path:
        """Shard 0 works in the bench's directory (as a single fleet always did)."""
        path = self.workdir if i == 0 else self.workdir / f"shard{i}"
        path.mkdir(exist_ok=True)
        return path

    def _env(self, i: int) -> dict[str, str]:
        env = {**self.env, "ROCKY_SYMBOLS": ",".join(self.groups[i])}
        if len(self.groups) > 1:
            env["ROCKY_SYMBOL_SHARD"] = "true"
            env[SOURCE_IP_ENV] = f"127.0.0.{i + 1}"
        return env

    async def start(self, log_name: str = "fleet.log") -> None:
        self.procs, self.logs = [], []
        for i in range(len(self.groups)):
            cwd = self._dir(i)
            self.procs.append(await start_fleet(cwd, self._env(i), self.seed, log_name))
            self.logs.append(cwd / log_name)

    async def wait_ready(self, timeout: float) -> float:
        """When the last shard reported READY and published its levels.

        The fleet logs `fleet_ready` a moment before the daemon tells systemd (which is when a
        shard publishes its levels): read at the log line, a shard's levels were sometimes
        missing, and the report judged 52 of five symbols' 130 levels.
        """
        pairs = zip(self.procs, self.logs, strict=True)
        times = await asyncio.gather(*(wait_fleet_ready(p, log, timeout) for p, log in pairs))
        deadline = time.monotonic() + timeout
        files = [self._dir(i) / LEVELS_FILE for i in range(len(self.groups))]
        while not all(f.exists() for f in files) and time.monotonic() < deadline:
            self.check_alive()
            await asyncio.sleep(0.05)
        return max(times)

    def published(self) -> list[dict[str, Any]]:
        return [row for i in range(len(self.groups)) for row in
                read_published(self._dir(i) / LEVELS_FILE)]  # fmt: skip

    def cpu_split(self) -> tuple[float, float]:
        splits = [proc_cpu_split(p.pid) for p in self.procs]
        return sum(u for u, _ in splits), sum(s for _, s in splits)

    def mem_mb(self) -> dict[str, float]:
        """The largest shard's VmRSS and VmHWM (each daemon's own budget)."""
        mems = [proc_mem_mb(p.pid) for p in self.procs]
        return {k: max(m.get(k, 0.0) for m in mems) for k in ("VmRSS", "VmHWM")}

    def check_alive(self) -> None:
        for proc, log in zip(self.procs, self.logs, strict=True):
            if proc.returncode is not None:
                raise RuntimeError(f"fleet exited ({proc.returncode}) while measured: "
                                   f"{tail_of(log)}")  # fmt: skip

    async def kill(self) -> None:
        await asyncio.gather(*(kill_child(p) for p in self.procs))

    async def stop(self, timeout: float) -> int | None:
        """SIGTERM to every shard at once; the worst exit code (None: one had to be killed)."""
        codes = await asyncio.gather(*(stop_child(p, timeout) for p in self.procs))
        if any(c is None for c in codes):
            return None
        return max(codes, key=lambda c: c != 0)

    def running(self) -> bool:
        return any(p.returncode is None for p in self.procs)

    def first_logs(self) -> list[Path]:
        return [self._dir(i) / "fleet.log" for i in range(len(self.groups))]
