"""The systemd user units: what systemd itself says about them, and the directives we rely on.

`systemd-analyze verify` runs as the user manager would (--user) with HOME pointing at a scratch
home where the unit's ExecStart exists, so it checks the real unit file. It reports most mistakes
as "..., ignoring" warnings with exit status 0, so a unit passes only if systemd prints nothing
about it; the seeded-defect tests prove that check catches a broken unit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from rocky_bot.config_errors import EX_CONFIG
from rocky_bot.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SINGLE = REPO / "deploy" / "rocky-bot.service"
TEMPLATE = REPO / "deploy" / "rocky-bot@.service"
UNITS = [SINGLE, TEMPLATE]

Directives = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Directives:
    """INI as systemd reads it: sections of keys, each key possibly repeated (EnvironmentFile)."""
    sections: Directives = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"directive outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not a directive: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: Directives, section: str, key: str) -> str:
    values = unit[section].get(key, [])
    assert len(values) == 1, f"[{section}] {key}= should be set exactly once, got {values}"
    return values[0]


def seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60}
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


@pytest.fixture(params=UNITS, ids=lambda p: p.name)
def unit(request) -> tuple[Path, Directives]:
    return request.param, parse_unit(request.param.read_text())


def test_systemd_runs_the_daemon_as_its_notifying_main_process(unit) -> None:
    """READY=1 and the watchdog pings come from the daemon itself (NotifyAccess=main): the unit
    must start the venv's console script directly, not under `uv run`."""
    path, directives = unit
    assert one(directives, "Service", "Type") == "notify"
    assert one(directives, "Service", "NotifyAccess") == "main"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "rocky-bot" in scripts
    keys = "%h/rocky-bot/keys/%i.json" if "@" in path.name else "%h/rocky-bot/.keys.json"
    assert one(directives, "Service", "ExecStart") == (
        f"%h/rocky-bot/.venv/bin/rocky-bot run --keys {keys}"
    )


def test_a_config_error_is_not_restarted_but_a_crash_is(unit) -> None:
    _, directives = unit
    assert one(directives, "Service", "RestartPreventExitStatus") == str(EX_CONFIG)
    assert one(directives, "Service", "Restart") == "on-failure"


def test_the_watchdog_outlasts_the_daemons_ping_interval(unit) -> None:
    """The daemon pings every WatchdogSec / 2 (notify.watchdog_interval_s) from a loop that also
    waits on the feed: a timeout under 10 s would kill a daemon that is merely busy."""
    _, directives = unit
    assert seconds(one(directives, "Service", "WatchdogSec")) >= 10


def test_the_keys_stay_readable_under_the_file_system_sandbox(unit) -> None:
    _, directives = unit
    assert one(directives, "Service", "ProtectHome") == "read-only"  # keys live under %h
    assert one(directives, "Service", "WorkingDirectory") in (
        one(directives, "Service", "ReadWritePaths").split()
    )


# Each of these makes a user unit fail to start (218/CAPABILITIES or 226/NAMESPACE) where the
# user manager cannot create a user namespace: systemd < 253 (Debian 12, Amazon Linux 2023) and
# Ubuntu >= 23.10 with its default AppArmor userns restriction. Sandboxing must degrade, not kill.
NOT_IN_USER_UNITS = [
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectClock",
    "PrivateDevices",
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "PrivateUsers",
    "User",
    "Group",
    "SupplementaryGroups",
    "DynamicUser",
]


def test_no_directive_that_breaks_unprivileged_user_units(unit) -> None:
    _, directives = unit
    assert [key for key in NOT_IN_USER_UNITS if key in directives["Service"]] == []


def test_stop_timeout_leaves_room_for_the_graceful_stop(unit) -> None:
    # systemd must not SIGKILL the daemon while it is still cancelling orders: the stop takes
    # at most stop_timeout_s + 2 s (tests/integration/test_faults_process.py).
    _, directives = unit
    stop_timeout = Settings.model_fields["stop_timeout_s"].default
    assert seconds(one(directives, "Service", "TimeoutStopSec")) >= stop_timeout + 2 + 5
    assert one(directives, "Service", "KillSignal") == "SIGTERM"


def test_crash_loops_are_bounded(unit) -> None:
    _, directives = unit
    interval = seconds(one(directives, "Unit", "StartLimitIntervalSec"))
    burst = int(one(directives, "Unit", "StartLimitBurst"))
    restart_sec = seconds(one(directives, "Service", "RestartSec"))
    assert burst >= 2
    assert interval > burst * restart_sec, "else the start limit never triggers"


def test_environment_is_json_logs_and_valid_settings(unit) -> None:
    _, directives = unit
    env = dict(
        item.split("=", 1) for line in directives["Service"]["Environment"] for item in line.split()
    )
    assert env["ROCKY_LOG_FORMAT"] == "json"
    assert env["PYTHONUNBUFFERED"] == "1"
    rocky = {k.removeprefix("ROCKY_").lower(): v for k, v in env.items() if k.startswith("ROCKY_")}
    Settings(**rocky)  # every ROCKY_ value the unit sets is one the daemon accepts


def test_host_settings_file_is_optional_and_shards_override_it(unit) -> None:
    path, directives = unit
    files = directives["Service"]["EnvironmentFile"]
    expected = ["-%h/.config/rocky-bot/env"]
    if "@" in path.name:
        expected.append("-%h/.config/rocky-bot/%i.env")  # read last: the shard's value wins
    assert files == expected


def test_template_differs_from_the_single_unit_only_in_shard_specifics() -> None:
    single, template = parse_unit(SINGLE.read_text()), parse_unit(TEMPLATE.read_text())
    shard_specific = {"Description", "ExecStart", "EnvironmentFile"}
    for section in single.keys() | template.keys():
        a, b = single.get(section, {}), template.get(section, {})
        for key in (a.keys() | b.keys()) - shard_specific:
            assert a.get(key) == b.get(key), f"[{section}] {key}= differs between the units"


# --- systemd-analyze verify -------------------------------------------------------------------

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def verify_units(
    files: dict[str, str], name: str, tmp_path: Path, mention: str | None = None
) -> tuple[int, list[str]]:
    """Write `files` (unit file name → text) as user units and verify `name` among them; return
    the exit status and the lines that mention `mention` (default: the unit's own stem)."""
    home = tmp_path / "home"
    binary = home / "rocky-bot" / ".venv" / "bin" / "rocky-bot"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    units = tmp_path / "units"
    units.mkdir(exist_ok=True)
    for file, text in files.items():
        (units / file).write_text(text)
    unit_path = units / name
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "LANG": "C.UTF-8",
        "SYSTEMD_LOG_COLOR": "0",
    }
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "--user", "--man=no", "--generators=no", "verify", str(unit_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    mention = mention or name.split("@")[0].removesuffix(".service")
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if mention in ln]
    return result.returncode, lines


@pytest.fixture
def verify(tmp_path: Path):
    if SYSTEMD_ANALYZE is None:
        pytest.skip("systemd-analyze is not installed (Debian package: systemd)")
    rc, lines = verify_units(
        {"known-good.service": "[Service]\nExecStart=/bin/true\n"}, "known-good.service", tmp_path
    )
    if rc != 0:
        pytest.skip(f"systemd-analyze cannot verify user units here: {lines}")
    return lambda text, name: verify_units({name: text}, name, tmp_path)


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_finds_nothing_to_say(verify, path: Path) -> None:
    rc, lines = verify(path.read_text(), path.name)
    assert rc == 0 and lines == [], lines


@pytest.mark.parametrize(
    ("good", "broken"),
    [
        ("Type=notify", "Tpye=notify"),
        ("WatchdogSec=30", "WatchdogSec=thirty"),
        ("Restart=on-failure", "Restart=sometimes"),
        ("RestartPreventExitStatus=78", "RestartPreventExitStatus=banana"),
        ("SystemCallFilter=@system-service", "SystemCallFilter=@system-servce"),
        ("MemoryMax=512M", "MemoryMax=lots"),
        ("[Service]", "[Servce]"),
        ("ExecStart=%h/rocky-bot/.venv/bin/", "ExecStart=%h/rocky-bot/venv/bin/"),
    ],
)
@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_verify_catches_a_seeded_defect(verify, path: Path, good: str, broken: str) -> None:
    text = path.read_text()
    assert good in text
    rc, lines = verify(text.replace(good, broken, 1), path.name)
    assert rc != 0 or lines, f"systemd-analyze did not notice {broken!r}"
