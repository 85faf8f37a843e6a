"""Where the fleet's CPU goes: py-spy's samples of the bench's fleet, split by part.

    uv run python -m rocky_bot.bench.profile --out docs/bench/extra/profile-seed1.json

runs `rocky-bot bench` (seed 1, 100 bookTicker messages/s per symbol, no restart) and samples
its fleet child with py-spy (from PyPI, brought in for the run by `uv run --with`) for 60 s of
the window, idle excluded, so each sample is CPU the fleet spent. Each sample goes to the first
part whose frames it holds (`part_of`); the README's "Where the CPU goes" quotes the shares.

py-spy sees a coroutine's frames only from where it was resumed: a reply read after an `await`
shows httpcore's frames without the maker loop above them. Those samples are split by the
library they are in (`resumed_http`, `resumed_websockets`) rather than guessed back to a caller.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rocky_bot.bench.run import write

PY_SPY = "py-spy==0.4.3"
RATE_HZ = 200
SAMPLE_S = 60
#: Set-up, warm-up and a margin before sampling starts, from the fleet child's start.
SETTLE_S = 25.0

#: (part, frames any of which puts a sample in it), first match wins.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("feed", ("DirectConnection.data_received",)),
    ("maker_loops_and_requests", ("StrategyLoop.run", "Executor.execute", "Wire.call")),
    # Every websocket but the feed's (DirectConnection) is an account's user stream.
    ("user_stream", ("UserStream.", "Connection.data_received (websockets/")),
    ("account_upkeep", ("AccountUpkeep.",)),
)
#: Partial stacks (a resumed coroutine) by the library their innermost frame is in (py-spy names
#: a frame's file from its package: `parse (websockets/frames.py:230)`).
LIBRARIES = (
    ("resumed_http", ("(httpx/", "(httpcore/", "(h11/", "(anyio/")),
    ("resumed_websockets", ("(websockets/",)),
    ("resumed_asyncio", ("(asyncio/", "(uvloop/")),
)


def part_of(frames: list[str]) -> str:
    """One sample's part. `frames` are py-spy's 'function (file:line)', outermost first."""
    if frames and frames[-1].startswith("Runner.run "):
        return "event_loop"  # uvloop's own C code: polling, callbacks, socket reads
    for part, markers in PARTS:
        if any(marker in frame for frame in frames for marker in markers):
            return part
    leaf = frames[-1] if frames else ""
    for part, paths in LIBRARIES:
        if any(path in leaf for path in paths):
            return part
    return "other"


def split(raw_lines: Iterable[str]) -> dict[str, Any]:
    """py-spy's raw (collapsed) output → samples per part and the top functions (inclusive)."""
    parts: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in raw_lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, n = stack.split(";"), int(count)
        total += n
        parts[part_of(frames)] += n
        for name in {frame.split(" (", 1)[0] for frame in frames}:
            functions[name] += n
    share = lambda n: round(n / total, 4) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "parts": {p: {"samples": n, "share": share(n)} for p, n in parts.most_common()},
        "top_functions_inclusive": [
            {"function": f, "share": share(n)} for f, n in functions.most_common(40)
        ],
    }


def _fleet_pid(bench: subprocess.Popen[bytes], timeout_s: float = 120.0) -> int:
    """The bench's fleet child (`python -m rocky_bot.bench.procs fleet`)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and bench.poll() is None:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"rocky_bot.bench.procs" in cmdline and b"fleet" in cmdline:
                return int(proc.name)
        time.sleep(0.5)
    raise SystemExit("profile: the bench's fleet did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rocky_bot.bench.profile")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rocky-profile-") as tmp:
        report_path, raw_path = Path(tmp) / "bench.json", Path(tmp) / "fleet.raw"
        duration = int(SETTLE_S + SAMPLE_S)
        bench = subprocess.Popen(
            [sys.executable, "-m", "rocky_bot", "bench", "--duration", str(duration),
             "--restart-s", "0", "--seeds", str(args.seed), "--out", str(report_path)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        pid = _fleet_pid(bench)
        time.sleep(SETTLE_S)
        subprocess.run(
            ["uv", "run", "--with", PY_SPY, "py-spy", "record", "-p", str(pid), "-d",
             str(SAMPLE_S), "-r", str(RATE_HZ), "-f", "raw", "-o", str(raw_path), "--nonblocking"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if bench.wait() != 0:
            raise SystemExit(f"profile: the bench exited {bench.returncode}")
        bench_report = json.loads(report_path.read_text())
        raw = raw_path.read_text()
        profile = split(raw.splitlines())
    raw_out = args.out.with_suffix(".raw.txt")  # py-spy's own output: split it again at will
    keys = ("fleet_cpu_pct", "fleet_cpu_split_pct", "order_actions_per_min", "ticks_per_s")
    doc = {
        "command": f"uv run python -m rocky_bot.bench.profile --out {args.out}",
        "py_spy": PY_SPY,
        "raw": str(raw_out),
        "rate_hz": RATE_HZ,
        "sampled_s": SAMPLE_S,
        "cpu_s_sampled": round(profile["samples"] / RATE_HZ, 2),
        "bench": {k: bench_report.get(k) for k in keys} | {"seed": args.seed},
        "machine": bench_report.get("machine"),
        **profile,
    }
    write(doc, args.out)
    raw_out.write_text(raw)
    for part, row in doc["parts"].items():
        print(f"{part:28s} {100 * row['share']:5.1f} %")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
