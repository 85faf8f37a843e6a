"""deploy/'s alert rules and Grafana dashboard: valid, proven, and naming only metrics that exist.

`promtool check rules` validates the rules; `promtool test rules` runs the unit-test series in
rocky-bot-alerts.test.yml (each alert fires when it should and stays quiet when it should not),
and a seeded defect per alert shows those series would notice. Every `rocky_*` name in a rule or
a dashboard panel must be a series `Metrics` exports, or the panel draws nothing and the alert
never fires. The dashboard's expressions are checked by promtool too, as recording rules.
Debian's `prometheus` package has promtool (.ci/run installs it); without it these tests skip,
except under CI, where a missing promtool fails them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rocky_bot.ops.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "rocky-bot-alerts.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "rocky-bot-alerts.test.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "rocky-bot-dashboard.json"
METRIC = re.compile(r"\brocky_[a-z0-9_]+")
ALERTS = {
    "RockyBotDown", "RockyBotMissing", "RockyFeedStale", "RockyBreakerOpen",
    "RockyAccountRunwayLow", "RockyFleetRunwayLow", "RockyNoTrades",
}  # fmt: skip


def exported_series() -> set[str]:
    """Every series name `Metrics` exposes on /metrics (a counter as `_total`, a histogram's
    `_bucket`/`_sum`/`_count`)."""
    names = set()
    for family in Metrics().registry.collect():
        if family.type == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count", "created")}
        else:
            names.add(family.name)
    return names


def alert_names() -> set[str]:
    return set(re.findall(r"^\s*- alert: (\w+)$", RULES.read_text(), re.MULTILINE))


def panel_exprs() -> list[tuple[str, str]]:
    doc = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in doc["panels"] for t in p["targets"]]


def test_every_alert_named_in_the_issue_is_there() -> None:
    assert alert_names() == ALERTS


def test_rules_and_panels_name_only_series_the_daemon_exports() -> None:
    exported = exported_series()
    used = set(METRIC.findall(RULES.read_text()))  # no other text there spells rocky_…
    used |= {m for _, expr in panel_exprs() for m in METRIC.findall(expr)}
    assert used - exported == set()
    assert {"rocky_symbol_fills_total", "rocky_breaker_open", "rocky_feed_age_seconds"} <= used


def test_the_dashboard_is_grafana_json_with_a_query_in_every_panel() -> None:
    doc = json.loads(DASHBOARD.read_text())
    assert doc["uid"] and doc["title"] and doc["panels"]
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
    for panel in doc["panels"]:
        assert panel["targets"], panel["title"]
        assert all(METRIC.search(t["expr"]) or "up{" in t["expr"] for t in panel["targets"])
        assert panel["datasource"]["uid"] == "${datasource}"  # picked on import
    variables = {v["name"] for v in doc["templating"]["list"]}
    assert variables == {"datasource", "instance"}


# --- promtool ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        message = "promtool is not installed (apt-get install prometheus)"
        if os.environ.get("CI"):
            pytest.fail(message)  # .ci/run installs it: missing there is a broken CI, not a skip
        pytest.skip(message)
    return path


def run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_checks_the_rules(promtool) -> None:
    result = run(promtool, "check", "rules", str(RULES), cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_and_stays_quiet_as_its_test_series_say(promtool) -> None:
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert tested == ALERTS
    result = run(promtool, "test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("good", "broken"),
    [
        ("== 0\n        for: 2m", "== 0\n        for: 0m"),
        ("rocky_feed_age_seconds > 15", "rocky_feed_age_seconds > 150"),
        ("rocky_breaker_open == 1\n        for: 5m", "rocky_breaker_open == 1\n        for: 1m"),
        ("rocky_unfunded_seconds > 7200", "rocky_unfunded_seconds > 1800"),
        ("rocky_fleet_runway_hours < 24", "rocky_fleet_runway_hours < 12"),
        ("increase(rocky_symbol_fills_total[5m])", "increase(rocky_symbol_fills_total[1m])"),
    ],
)
def test_a_seeded_defect_fails_the_rule_tests(promtool, tmp_path, good, broken) -> None:
    text = RULES.read_text()
    assert good in text
    (tmp_path / RULES.name).write_text(text.replace(good, broken, 1))
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    assert run(promtool, "test", "rules", RULE_TESTS.name, cwd=tmp_path).returncode != 0


def test_every_panel_expression_is_valid_promql(promtool, tmp_path) -> None:
    """Each panel's expression (Grafana's `$instance` as `.*`) as a recording rule."""
    records = [
        {"record": f"dashboard:panel_{i}", "expr": expr.replace("$instance", ".*")}
        for i, (_, expr) in enumerate(panel_exprs())
    ]
    path = tmp_path / "dashboard-rules.yml"
    # JSON is YAML: no YAML library needed to write a rules file
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": records}]}))
    result = run(promtool, "check", "rules", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
