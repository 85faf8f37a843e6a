"""The README's table is rendered from reports: medians over seeds, the spec column measured."""

from __future__ import annotations

import pytest

from rocky_bot.bench.table import BEGIN, END, render, write_into


def report(profile, seed, weight, p95):
    return {
        "profile": profile, "duration_s": 120.0,
        "settings": {"seed": seed, "accounts": 30, "vol": 0.6, "tick_rate": 100.0},
        "machine": {"nproc": 2, "cpu_model": "AMD EPYC", "python": "3.11.7",
                    "loadavg_at_start": [0.2, 0.1, 0.1]},
        "weight_per_min_orders_at_1": weight, "inside_spread_bps": {"p95": p95},
        "order_actions_per_min": {"place": 10.0, "modify": 20.0, "cancel": 0.0},
    }  # fmt: skip


def line(table, label):
    return next(row for row in table.splitlines() if row.startswith(f"| {label}"))


REPORTS = [
    report("ours", 1, 900.0, 2.0), report("ours", 2, 1100.0, 2.1),
    report("ours", 3, 1000.0, None), report("spec", 1, 11000.0, 2.0),
    report("spec", 2, 9000.0, 2.0), report("spec", 3, 10000.0, 2.2),
]  # fmt: skip


def test_each_cell_is_the_median_over_seeds_and_the_ratio_is_spec_over_ours():
    table = render(REPORTS)
    assert line(table, "REST weight / min, every order action at 1") == (
        "| REST weight / min, every order action at 1 | 10,000 | **1,000** | 10.0× | ≤ 1,200 |"
    )
    assert "seeds 1, 2, 3" in table


def test_a_missed_figure_ranks_worst_in_the_median():
    # ours: 2.0, 2.1 and a miss (an empty side at p95) → the median is 2.1
    assert "**2.10**" in line(render(REPORTS), "inside spread p95")


def test_the_readme_block_between_the_markers_is_replaced(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{BEGIN}\nold\n{END}\nafter\n")
    write_into(readme, "new table")
    assert readme.read_text() == f"before\n{BEGIN}\nnew table\n{END}\nafter\n"
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n")
    with pytest.raises(SystemExit):
        write_into(bare, "x")
