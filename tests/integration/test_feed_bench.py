"""Feed cost per bookTicker message with 30 and 300 accounts' bands (the figure `bench` reports).

Deselected by default; run with `uv run pytest -m bench tests/integration/test_feed_bench.py -s`.
"""

from __future__ import annotations

import pytest

from rocky_bot.bench.feed import feed_benchmark, frames, maker_bands, per_message_us


def test_band_count_follows_the_funnel():
    assert maker_bands(30) == 52  # 24 ladders + the anchor's two sides, on two symbols
    assert maker_bands(300) == 520


def test_every_frame_is_handled_and_bands_fire_as_the_mid_moves():
    us, wakes = per_message_us(maker_bands(30), frames(4000))
    assert us > 0
    assert wakes > 0  # at BTC-like vol a ±2 bps band is left every few seconds


@pytest.mark.bench
def test_bench_feed_cost_per_message_is_flat_in_the_number_of_accounts():
    """DESIGN.md §5: ≤ 15 µs per message at 500 msgs/s; 300 accounts cost what 30 cost."""
    result = feed_benchmark(40_000)
    print()
    for n in (30, 300):
        r = result[f"accounts_{n}"]
        print(
            f"accounts={n:4d} bands={r['bands']:4d}  {r['us_per_message']:6.2f} µs/message "
            f"(= {r['cpu_pct_at_500_msgs_s']:.2f} % of a core at 500 msgs/s)  "
            f"wake-ups={r['wakeups']}"
        )
        assert r["us_per_message"] <= 15.0
    # Ten times the bands: the tick path stays O(1); only the fired bands' re-pegs add up.
    ratio = result["accounts_300"]["us_per_message"] / result["accounts_30"]["us_per_message"]
    assert ratio < 1.5
