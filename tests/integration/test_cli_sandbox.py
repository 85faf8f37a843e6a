"""The newcomer's command, as a real process: `rocky-bot sandbox --duration N` on an ephemeral port.

It must form the funnel (inside spread ≤ 2.5 bps, ≥ 13 levels per side per symbol), trade on
both symbols, and stop cleanly with no order left; `rocky-bot book` draws that book meanwhile and
`rocky-bot check-keys --online` reads every minted account.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys

VIEW = re.compile(
    r"(?P<symbol>BTCUSDT|ETHUSDT): bid \S+ ask \S+ spread (?P<spread>[\d.]+) bps\s+levels "
    r"(?P<bids>\d+)/(?P<asks>\d+)\s+trades/min (?P<trades>\d+)"
)


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROCKY_")}
    env.update(
        ROCKY_TAKER_INTERVAL_S="5", ROCKY_TAKER_JITTER_S="1", ROCKY_METRICS_PORT="0",
        ROCKY_LOG_LEVEL="warning", **extra,
    )  # fmt: skip
    return env


async def run_cli(*args: str, env: dict[str, str], timeout: float = 30) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode()


async def test_sandbox_command_forms_the_funnel_trades_and_stops_clean(tmp_path):
    keys = tmp_path / "keys.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot", "sandbox", "--port", "0", "--duration", "14",
        "--view-every", "2", "--keys-out", str(keys), env=cli_env(), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[str] = []
    base_url = None
    book_output = None
    async with asyncio.timeout(45):
        while line := (await proc.stdout.readline()).decode():
            lines.append(line)
            if m := re.match(r"sandbox exchange\s+(http://\S+)", line):
                base_url = m.group(1)
            views_seen = sum(bool(VIEW.search(x)) for x in lines)
            if base_url and book_output is None and views_seen >= 6:  # 3rd view: funnel formed
                code, book_output = await run_cli(
                    "book", "BTCUSDT", "--base-url", base_url, "--depth", "15", env=cli_env()
                )
                assert code == 0, book_output
                code, check_output = await run_cli(
                    "check-keys", "--keys", str(keys), "--online", env=cli_env()
                )
                assert code == 0, check_output
                assert check_output.count(" ok (") == 30
        await proc.wait()
    output = "".join(lines)
    assert proc.returncode == 0, output + (await proc.stderr.read()).decode()
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    views = [m.groupdict() for m in VIEW.finditer(output)]
    for symbol in ("BTCUSDT", "ETHUSDT"):
        # Once formed (from the 3rd view on), the funnel shows in at least 2 views of 3: a
        # view is one instant, and a requote may be moving a level just then.
        formed = [v for v in views if v["symbol"] == symbol][2:]
        assert len(formed) >= 3, output
        good = [
            v for v in formed
            if float(v["spread"]) <= 2.5 and int(v["bids"]) >= 13 and int(v["asks"]) >= 13
        ]  # fmt: skip
        assert len(good) * 3 >= len(formed) * 2, (symbol, formed)
        assert int(formed[-1]["trades"]) > 0, (symbol, formed[-1])
    assert "open orders left on the exchange: 0" in output
    assert "bps" in book_output and book_output.count("bid ") >= 13
