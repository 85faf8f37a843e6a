"""`rocky-bot bench`: run the real fleet against the sandbox and measure it against DESIGN.md §5.

Three processes, so that what is measured is the fleet's own (phases.py has the timeline):

    bench (this)  ── mints accounts, writes a mode-600 keys file, samples /proc, writes the report
    ├─ exchange   `python -m rocky_bot.bench.probe`: the sandbox + a recorder
    └─ fleet      `python -m rocky_bot.bench.procs fleet --seed S`: exactly `rocky-bot run`
                  (same settings from ROCKY_* env, same `run_daemon`), seeded, publishing its
                  maker levels at READY

Profiles (`--profile`), on the same seeded price path:

- `ours`: the daemon as shipped (its defaults);
- `spec`: the fleet as the seed describes it (spec/000, spec/001): every iteration reads balance,
  positions and open orders over REST, cancel + new instead of modify, no band wake-ups, no user
  stream, GTC takers, no dead-man, the flat 2 bps drift without jitter, no tape keeper or taker
  lean. Only settings differ (`SPEC_PROFILE`), never the code path. Its weight is far past an
  IP's 2,400/min, so the exchange's limit is lifted for it: what is measured is what the design
  asks for, not how a venue would throttle it.

`--seeds 1,2,3 --profile both --out-dir docs/bench` writes one JSON report per run;
`python -m rocky_bot.bench table docs/bench/*.json` turns them into the README's table (medians).
Any ROCKY_* variable in the bench's environment reaches the fleet (the profile's on top) and is
recorded in the report. With more than 30 accounts the weight limit is scaled by ⌈N/30⌉.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from rocky_bot.bench.phases import BenchConfig, json_default, run_bench
from rocky_bot.bench.report import format_table, report_from
from rocky_bot.bench.table import render

#: Keep the bench's working directory (keys, logs, probe.json) here instead of a temp dir.
WORKDIR_ENV = "ROCKY_BENCH_WORKDIR"
#: Seed of the price path and of the fleet's randomness when --seeds is not given.
SEED_ENV = "ROCKY_BENCH_SEED"
#: The seed's design, as settings (see the module docstring).
SPEC_PROFILE = {
    "ROCKY_POLL_EACH_ITERATION": "true",
    "ROCKY_USE_MODIFY": "false",
    "ROCKY_BAND_WAKEUPS": "false",
    "ROCKY_USER_STREAM": "false",
    "ROCKY_TAKER_IOC": "false",
    "ROCKY_DEADMAN_COUNTDOWN_S": "0",
    "ROCKY_DRIFT_JITTER": "0",
    "ROCKY_DEEP_DRIFT_SHARE": "0",
    "ROCKY_TAPE_MAX_GAP_S": "0",
    "ROCKY_TAKER_LEAN": "false",
}
#: The spec profile's weight limit: high enough that it is never throttled.
UNTHROTTLED = 1_000_000


def weight_limit_for(accounts: int) -> int:
    return 2400 * max(1, math.ceil(accounts / 30))


def config_for(base: BenchConfig, profile: str, seed: int) -> BenchConfig:
    if profile == "spec":
        # No restart check: the spec has no dead-man and nothing to prove about 429s.
        return replace(base, profile=profile, seed=seed, env=dict(SPEC_PROFILE),
                       weight_limit=UNTHROTTLED, restart_s=0)  # fmt: skip
    return replace(base, profile=profile, seed=seed, weight_limit=weight_limit_for(base.accounts))


def run_one(cfg: BenchConfig) -> dict[str, Any]:
    from rocky_bot.cli import run_async

    print(
        f"rocky-bot bench, profile {cfg.profile}: {cfg.accounts} accounts × "
        f"{len(cfg.symbols)} symbols, {cfg.duration_s:g} s "
        f"(+ set-up, {cfg.warmup_s:g} s warm-up, {cfg.restart_s:g} s after a restart), vol "
        f"{cfg.vol}, {cfg.tick_rate:g} msgs/s per symbol, seed {cfg.seed}; exchange and fleet "
        "in their own processes on 127.0.0.1",
        flush=True,
    )
    keep = os.environ.get(WORKDIR_ENV)
    if keep:  # debugging: keep the logs and the exchange's recording
        workdir = Path(keep) / f"{cfg.profile}-seed{cfg.seed}"
        workdir.mkdir(parents=True, exist_ok=True)
        return run_async(run_bench(cfg, workdir))
    with tempfile.TemporaryDirectory(prefix="rocky-bench-") as tmp:
        return run_async(run_bench(cfg, Path(tmp)))


def write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=json_default, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def cmd_bench(args: argparse.Namespace) -> int:
    from rocky_bot.ops.logs import configure_logging
    from rocky_bot.settings import load_settings

    configure_logging("auto", "warning")
    load_settings()  # a bad ROCKY_* value is one line and exit 78 before any process starts
    seeds = [int(s) for s in (args.seeds or os.environ.get(SEED_ENV, "1")).split(",")]
    profiles = ["ours", "spec"] if args.profile == "both" else [args.profile]
    symbols = tuple(s.strip().upper() for s in args.symbols.split(",") if s.strip())
    base = BenchConfig(
        duration_s=args.duration, accounts=args.accounts, vol=args.vol, tick_rate=args.tick_rate,
        restart_s=args.restart_s, symbols=symbols,
    )  # fmt: skip
    single = len(seeds) * len(profiles) == 1 and args.out_dir is None
    reports = []
    for seed in seeds:
        for profile in profiles:
            report = run_one(config_for(base, profile, seed))
            out = args.out if single else (args.out_dir or Path(".")) / f"{profile}-seed{seed}.json"
            write(report, out)
            reports.append(report)
            print(format_table(report))
            print(f"report: {out}", flush=True)
    if len(reports) > 1:  # the profiles side by side, medians over seeds
        print("\n" + render(reports))
    return 0


def report_main(argv: list[str]) -> int:
    """`python -m rocky_bot.bench report WORKDIR [OUT.json]`: analyse a kept recording again."""
    report = report_from(Path(argv[0]))
    print(format_table(report))
    if len(argv) > 1:
        write(report, Path(argv[1]))
    return 0
