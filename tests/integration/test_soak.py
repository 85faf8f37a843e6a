"""Soak: the real daemon process against the sandbox, with random faults, for SOAK_SECONDS.

    SOAK_SECONDS=600 uv run pytest -m soak -s tests/integration/test_soak.py

Deselected by default (marker `soak`). The daemon runs as `python -m rocky_bot run` (so its RSS
is its own) on the matrix's compressed timings; the sandbox and the invariant checker run in
this process. The schedule alternates a healthy spell (5–15 s) with one random fault from the
matrix (3–8 s), then clears it and requires the funnel back in full, every breaker closed,
within 10 s. Throughout: invariants 1–4 from the exchange's side; at the end: every loop
alive and no task restarted (/status), no secret in the log, /status or /metrics, and SIGTERM
→ exit 0 with an empty book. Printed: orders, fills, faults, checks, recoveries, RSS growth.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import time
from collections import Counter

import httpx
import pytest
from daemon_process import rss_kb, start
from fleet_harness import FAST, mint_keys, settings_for
from invariants import InvariantChecker, funnel_gaps, secrets_exposed
from scenario import MATRIX, fault_sandbox

from rocky_bot.funnel import funnel_ids
from rocky_bot.keys import load_keys

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
SEED = int(os.environ.get("SOAK_SEED", "1"))
SETTINGS = {**FAST, **MATRIX, "log_level": "warning"}
HEALTHY_GRACE_S = 0.3

#: name → (fault body, inv-1 grace while it lasts, is a feed outage for invariant 4)
FAULTS: dict[str, tuple[dict, float, bool]] = {
    "latency": ({"latency_ms": 150}, 1.0, False),
    "error_rate": ({"error_rate": 0.3}, 1.5, False),
    "timeout_rate": ({"timeout_rate": 0.2}, 5.0, False),
    "503+timeouts": ({"error_rate": 0.2, "timeout_rate": 0.2}, 5.0, False),
    "rate_limit": ({"rate_limit": True, "retry_after_s": 1}, 2.5, False),
    "ban": ({"ban": True, "retry_after_s": 2}, 4.5, False),
    "clock_skew": ({"clock_skew_ms": 8000}, 0.6, False),
    "reject_margin": ({"reject_margin": True}, 0.6, False),
    "malformed": ({"malformed_rate": 0.2}, 1.5, False),
    "feed_garbage": ({"feed_garbage_rate": 0.3}, 0.6, False),
    "feed_freeze": ({"feed_freeze": True}, 0.6, True),
    "feed_drop": ({"feed_drop": True}, 0.6, True),
    "price_jump": ({}, 0.6, False),
    "down": ({}, 0.6, False),
}


@pytest.mark.soak
@pytest.mark.timeout(SOAK_SECONDS + 300)  # the suite's 120 s per-test limit is for the rest
async def test_soak(tmp_path):
    rng = random.Random(SEED)
    async with fault_sandbox() as sandbox:
        keys_path = await mint_keys(sandbox, tmp_path / "keys.json", funnel_ids(30), amount=1000)
        settings = settings_for(sandbox, keys_path, **SETTINGS)
        accounts = load_keys(keys_path).accounts
        names = {a.account_id: sandbox.keys.get(a.key).account for a in accounts}
        faults = sandbox.fault_injector
        scheduled: Counter[str] = Counter()
        recoveries: list[tuple[str, float]] = []
        async with InvariantChecker(sandbox, names, settings, grace_s=HEALTHY_GRACE_S) as inv:
            port = _free_port()  # the log is at warning: the status URL is not announced
            status_url = f"http://127.0.0.1:{port}/status"
            daemon = await start(
                {**SETTINGS, "metrics_port": port}, settings.feed_url, keys_path, tmp_path
            )
            try:

                async def healthy() -> bool:
                    doc = await _status(status_url)
                    closed = all(a["breaker"] == "closed" for a in doc["accounts"])
                    return closed and not funnel_gaps(sandbox, names, settings)

                await _until(healthy, 30)
                rss_start = rss_kb(daemon.proc.pid)
                rss_max = rss_start
                deadline = time.monotonic() + SOAK_SECONDS
                while time.monotonic() < deadline:
                    await asyncio.sleep(rng.uniform(5, 15))
                    rss_max = max(rss_max, rss_kb(daemon.proc.pid))
                    name = rng.choice(sorted(FAULTS))
                    body, grace, feed_outage = FAULTS[name]
                    scheduled[name] += 1
                    inv.grace_s = grace
                    hold = rng.uniform(3, 8)
                    if feed_outage:
                        inv.feed_down()
                        hold = max(hold, settings.feed_stale_s + 4.5)
                    if name == "price_jump":
                        inv.exempt_prices(1.0)
                        await faults.apply(price_jump_pct=rng.choice([-3.0, 3.0]))
                    elif name == "down":
                        await faults.go_down(hold)
                    else:
                        await faults.apply(seed=rng.randrange(1 << 30), **body)
                    await asyncio.sleep(hold + (0.2 if name == "down" else 0))
                    await faults.clear()
                    if feed_outage:
                        inv.feed_up()
                    cleared = time.monotonic()
                    try:
                        await _until(healthy, 10)
                        recoveries.append((name, time.monotonic() - cleared))
                    except AssertionError:
                        inv.violate(f"recovery {name} {cleared}", f"{name}: not back in 10 s")
                    await asyncio.sleep(2)  # replaces begun under the fault have finished
                    inv.grace_s = HEALTHY_GRACE_S
                doc = await _status(status_url)
                async with httpx.AsyncClient(timeout=5) as http:
                    metrics = (await http.get(status_url.replace("/status", "/metrics"))).text
                rss_end = rss_kb(daemon.proc.pid)
                rss_max = max(rss_max, rss_end)
                daemon.proc.send_signal(signal.SIGTERM)
                code = await daemon.wait(settings.stop_timeout_s + 5)
            finally:
                if daemon.proc.returncode is None:
                    daemon.proc.kill()
                    await daemon.wait(5)
        now_ms = int(time.time() * 1000)  # the 1m klines count every trade; the tape keeps 1,000
        fills = sum(
            k.count
            for s in settings.symbols
            for k in sandbox.engine.tapes[s].klines(now_ms, None, None, 100_000)
        )
        secrets = [sandbox.admin_token] + [s for a in accounts for s in (a.key, a.secret)]
        exposed = secrets_exposed(
            secrets, {"log": daemon.log, "/status": str(doc), "/metrics": metrics}
        )
        worst = max((s for _, s in recoveries), default=0.0)
        print(
            f"\nSOAK {SOAK_SECONDS:g}s seed {SEED}: {len(inv.accepted())} orders accepted, "
            f"{fills} fills (trades), {sum(scheduled.values())} faults {dict(scheduled)}, "
            f"{sum(faults.injected.values())} fault events at the exchange, "
            f"{inv.checks} invariant checks ({inv.checks * len(names)} account samples), "
            f"recovery mean {_mean([s for _, s in recoveries]):.2f}s max {worst:.2f}s, "
            f"longest two-orders-on-a-side {inv.longest_double_s:.2f}s, "
            f"RSS {rss_start / 1024:.1f} MB → max {rss_max / 1024:.1f} MB "
            f"(growth {(rss_max - rss_start) / 1024:.1f} MB), "
            f"task restarts {doc['task_restarts']}, exit {code}"
        )
        assert inv.violations == [], inv.violations
        assert code == 0 and sandbox.engine.open_order_count() == 0
        assert doc["task_restarts"] == 0
        assert not [p for p in doc["problems"] if p.startswith("loops dead")], doc["problems"]
        assert exposed == [], exposed
        assert "Traceback" not in daemon.log


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _status(url: str) -> dict:
    async with httpx.AsyncClient(timeout=5) as http:
        try:
            return (await http.get(url)).json()  # 503 when unhealthy, still the document
        except httpx.TransportError:
            return {"accounts": [{"breaker": "starting"}]}


async def _until(check, within: float) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s")
        await asyncio.sleep(0.1)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
