"""The funnel's maker levels as the bench judges them, and a check of what the fleet published.

The fleet child writes `levels.json` once its loops are built (`procs.publish_levels`): every
maker level with its offset and its jittered drift. The bench does not take that on trust: it
derives each level's nominal drift from the settings and the funnel with its own arithmetic
(never the bot's `Settings.drift_for` or `Fleet.build`) and checks that the published drift lies
within the jitter the settings allow. A level that does not is reported, and judged by the
drift the bench expected, so a bug in the bot's drift cannot hide in its own judge.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from rocky_bot.bench.analysis import Level
from rocky_bot.funnel import Layer, Role, parse_account_id


def nominal_drift(account: str, settings: dict[str, Any]) -> float:
    """The drift DESIGN.md and the settings give a maker before jitter (the bench's own rule)."""
    spec = parse_account_id(account)
    if spec.role is Role.ANCHOR:
        return float(settings["anchor_drift_bps"])
    ladder = float(settings["ladder_drift_bps"])
    if spec.layer in (Layer.L2, Layer.L3):
        return max(ladder, float(spec.offset_bps) * float(settings["deep_drift_share"]))
    return ladder


def judged_levels(
    published: list[dict[str, Any]], settings: dict[str, Any]
) -> tuple[list[Level], list[dict[str, Any]]]:
    """The levels to judge, and those whose published drift the settings do not explain."""
    jitter = float(settings["drift_jitter"])
    levels, wrong = [], []
    for row in published:
        nominal = nominal_drift(row["account"], settings)
        drift = float(row["drift_bps"])
        spec = parse_account_id(row["account"])
        if abs(drift - nominal) > nominal * jitter + 1e-3 or float(row["offset_bps"]) != float(
            spec.offset_bps
        ):
            wrong.append({**row, "expected_drift_bps": nominal, "jitter": jitter})
            drift = nominal
        qty = Decimal(row["qty"]) if row.get("qty") else None
        levels.append(
            Level(
                row["account"], row["symbol"], row["side"], spec.offset_bps,
                Decimal(str(drift)), qty,
            )
        )  # fmt: skip
    return levels, wrong


def read_published(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text()) if path.exists() else []
