"""The funding timer's units: an hourly oneshot holding the admin token; a daemon that never does.

`systemd-analyze verify` checks each file as the user manager would (the harness of
test_systemd_units.py: a scratch HOME where ExecStart exists); what verify lets through
(`Persistent=maybe`, a timer naming a unit that is not shipped) is checked on the parsed file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.test_systemd_units import UNITS as DAEMON_UNITS
from tests.unit.test_systemd_units import one, parse_unit, verify_units

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PAIRS = [  # (service, timer, keys file)
    ("rocky-bot-fund.service", "rocky-bot-fund.timer", "%h/rocky-bot/.keys.json"),
    ("rocky-bot-fund@.service", "rocky-bot-fund@.timer", "%h/rocky-bot/keys/%i.json"),
]
TOKEN_FILE = "%h/.config/rocky-bot/admin-token"


def env_of(directives) -> dict[str, str]:
    return dict(
        item.split("=", 1) for line in directives["Service"]["Environment"] for item in line.split()
    )


@pytest.mark.parametrize(("service", "timer", "keys"), PAIRS)
def test_the_service_funds_once_with_the_token_from_its_file(service, timer, keys) -> None:
    unit = parse_unit((DEPLOY / service).read_text())
    assert one(unit, "Service", "Type") == "oneshot"
    assert one(unit, "Service", "ExecStart") == (
        f"%h/rocky-bot/.venv/bin/rocky-bot fund --keys {keys}"
    )
    env = env_of(unit)
    assert env["ROCKY_ADMIN_TOKEN_FILE"] == TOKEN_FILE and "ROCKY_ADMIN_TOKEN" not in env
    assert env["ROCKY_LOG_FORMAT"] == "json"  # wallet_funded as one JSON line in the journal
    assert "[Install]" not in (DEPLOY / service).read_text()  # started by its timer only


@pytest.mark.parametrize(("service", "timer", "keys"), PAIRS)
def test_the_timer_runs_the_service_hourly_and_catches_up_missed_runs(service, timer, keys) -> None:
    unit = parse_unit((DEPLOY / timer).read_text())
    assert one(unit, "Timer", "OnCalendar") == "hourly"
    assert one(unit, "Timer", "Persistent") == "true"
    target = one(unit, "Timer", "Unit").replace("@%i.", "@.")
    assert target == service and (DEPLOY / target).exists()
    assert one(unit, "Install", "WantedBy") == "timers.target"


@pytest.mark.parametrize("path", DAEMON_UNITS, ids=lambda p: p.name)
def test_the_daemon_never_holds_the_admin_token(path: Path) -> None:
    text = path.read_text()
    assert "ROCKY_ADMIN_TOKEN" not in text and "admin-token" not in text


# --- systemd-analyze verify -------------------------------------------------------------------

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture
def verified(tmp_path: Path):
    if SYSTEMD_ANALYZE is None:
        pytest.skip("systemd-analyze is not installed (Debian package: systemd)")

    def check(service: str, timer: str, name: str, edit=lambda text: text):
        files = {f: (DEPLOY / f).read_text() for f in (service, timer)}
        files[name] = edit(files[name])
        return verify_units(files, name, tmp_path, mention="rocky-bot")

    return check


@pytest.mark.parametrize(("service", "timer", "keys"), PAIRS)
def test_systemd_analyze_verify_finds_nothing_to_say(verified, service, timer, keys) -> None:
    for name in (service, timer):
        rc, lines = verified(service, timer, name)
        assert rc == 0 and lines == [], (name, lines)


@pytest.mark.parametrize(
    ("which", "good", "broken"),
    [
        ("timer", "OnCalendar=hourly", "OnCalendar=hourlyish"),
        ("timer", "[Timer]", "[Timr]"),
        ("service", "Type=oneshot", "Type=oneshoot"),
        ("service", "TimeoutStartSec=300", "TimeoutStartSec=long"),
        ("service", "ExecStart=%h/rocky-bot/.venv/bin/", "ExecStart=%h/rocky-bot/venv/bin/"),
        ("service", "SystemCallFilter=@system-service", "SystemCallFilter=@system-servce"),
    ],
)
@pytest.mark.parametrize(("service", "timer", "keys"), PAIRS)
def test_verify_catches_a_seeded_defect(verified, service, timer, keys, which, good, broken):
    name = service if which == "service" else timer
    assert good in (DEPLOY / name).read_text()
    rc, lines = verified(service, timer, name, lambda text: text.replace(good, broken, 1))
    assert rc != 0 or lines, f"systemd-analyze did not notice {broken!r}"
