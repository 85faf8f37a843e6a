"""`bench.floor`: every client case really makes its requests and every tick arrives, and the
floor at the bench's rates is worked out from the bench's medians (README quotes it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from rocky_bot.bench.floor import bench_rates, floor_of, measure


@pytest.fixture
def floor_server() -> Iterator[dict[str, int]]:
    server = subprocess.Popen(
        [sys.executable, "-m", "rocky_bot.bench.floor_server"], stdout=subprocess.PIPE, text=True
    )
    try:
        yield json.loads(server.stdout.readline())  # type: ignore[union-attr]
    finally:
        server.kill()
        server.wait()


async def test_each_client_case_and_tick_stream_is_measured(floor_server):
    found = await measure(floor_server, rounds=1, n=5, ticks=40, requests_per_s=20.0)
    cases = found["request_cpu_us"]
    assert {"asyncio_streams", "httpx_transport", "fleet_http_client"} <= set(cases)
    for row in cases.values():
        assert all(row[k]["median"] > 0 for k in ("hot", "paced", "fleet_pattern_pct"))
    # feed_cpu_us raises unless all 40 frames came; each row is one round's figure
    assert {k: len(v["rounds"]) for k, v in found["tick_cpu_us"].items()} == {
        "tcp_read": 1, "websockets": 1, "websockets_100_a_read": 1,
    }  # fmt: skip


def test_the_floor_is_the_patterns_cpu_over_the_benchs_order_actions():
    report = {"requests_per_min": 600.0, "order_actions_per_min": {"place": 60.0, "modify": 480.0},
              "ticks_per_s": {"BTCUSDT": 100.0, "ETHUSDT": 100.0}, "fleet_cpu_pct": 7.0,
              "cpu_ms_per_order_action": 5.0}  # fmt: skip
    rates = bench_rates([report, report | {"requests_per_min": 900.0}, report])
    assert rates["requests_per_s"] == 10.0  # medians of the reports
    assert rates["order_actions_per_s"] == 9.0
    floor = floor_of(3.0, 50.0, rates)
    # 30 ms of CPU a second over 9 actions; the feed alone 200 × 50 µs = 10 ms of it
    assert floor["cpu_ms_per_order_action"] == pytest.approx(3.33, abs=0.01)
    assert floor["feed_cpu_pct"] == 1.0
    assert floor["request_us_over_the_feed"] == 2000.0  # (30 − 10) ms over 10 requests
