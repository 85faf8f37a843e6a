"""The request-weight targets of DESIGN.md §5, from a full-length bench (deselected by default:
`uv run pytest -m bench`). Weight does not depend on the machine's speed, so these hold on a busy
laptop too; latency and CPU are read from the bench's report, not asserted here."""

from __future__ import annotations

import pytest

from rocky_bot.bench.phases import BenchConfig, run_bench
from rocky_bot.bench.run import weight_limit_for

pytestmark = pytest.mark.bench


@pytest.mark.timeout(600)
async def test_the_fleet_stays_inside_its_request_budget_and_a_restart_meets_no_429(tmp_path):
    cfg = BenchConfig(duration_s=120.0, feed_bench_frames=0, weight_limit=weight_limit_for(30))
    report = await run_bench(cfg, tmp_path)

    assert report["weight_per_min_orders_at_1"] <= 1200
    assert report["weight_per_min"] <= 1200
    assert report["startup_weight_peak"] <= 1800
    assert report["restart"]["rate_limited"] == 0
    assert report["restart"]["weight_peak"]["orders_at_1"] <= 2400
    assert report["fleet"]["exit_code"] == 0 and report["open_orders_left"] == 0
