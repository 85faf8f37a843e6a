"""`bench.floor`: every client case really makes its requests and every tick arrives, and the
implied floor prices the bench's rates at the paced costs (README quotes it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from rocky_bot.bench.floor import implied_floor, measure


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
    found = await measure(floor_server, rounds=1, n=5, ticks=40)
    assert {"asyncio_streams", "httpx_transport", "fleet_http_client"} <= set(found["request_cpu"])
    for cadences in found["request_cpu"].values():
        assert cadences["hot"]["median_us"] > 0 and cadences["paced"]["median_us"] > 0
    # feed_cpu_us raises unless all 40 frames came; each row is one round's figure
    assert {k: len(v["rounds_us"]) for k, v in found["tick_cpu"].items()} == {
        "tcp_read": 1, "websockets": 1, "websockets_100_a_read": 1,
    }  # fmt: skip


def test_the_implied_floor_prices_requests_and_ticks_per_order_action():
    bench = [
        {"requests_per_min": 600.0, "order_actions_per_min": {"place": 60.0, "modify": 480.0},
         "ticks_per_s": {"BTCUSDT": 100.0, "ETHUSDT": 100.0}, "fleet_cpu_pct": 7.0,
         "cpu_ms_per_order_action": 5.0},
    ] * 3  # fmt: skip
    floor = implied_floor({"request_us": 1000.0, "tick_us": 100.0}, bench)
    # 10 requests/s × 1 ms + 200 ticks/s × 0.1 ms = 30 ms of CPU a second, over 9 actions/s
    assert floor["floor_cpu_pct"] == 3.0
    assert floor["floor_cpu_ms_per_order_action"] == pytest.approx(3.33, abs=0.01)
    assert floor["order_actions_per_s"] == 9.0
