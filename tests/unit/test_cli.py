"""`rocky-bot run` and `check-keys` on bad input: one line on stderr, exit 78, never a traceback.

In-process (`cli.main([...])`), so no subprocess and no network: every bad-keys path must exit
before the daemon opens a connection.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rocky_bot.cli import main
from rocky_bot.config_errors import EX_CONFIG
from rocky_bot.funnel import STANDARD_FUNNEL

BASE = "http://127.0.0.1:9"  # discard port: nothing here may ever be contacted
SECRET = "s3cr3t-cli-never-print-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("ROCKY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env or .keys.json of the checkout


def keys_file(path: Path, doc: object, mode: int = 0o600) -> str:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    os.chmod(path, mode)
    return str(path)


def funnel(base_url: str = BASE, ids=STANDARD_FUNNEL) -> dict:
    return {
        "base_url": base_url,
        "accounts": [{"id": i, "key": f"key-{i}", "secret": SECRET} for i in ids],
    }


def with_account(entry: dict) -> dict:
    doc = funnel(ids=("mm-anchor",))
    doc["accounts"].append(entry)
    return doc


BAD_KEYS = {
    "not json": ('{"base_url": "http://x", ', "not JSON"),
    "missing base_url": (
        {"accounts": [{"id": "mm-anchor", "key": "k", "secret": "s"}]},
        "base_url",
    ),
    "empty base_url": (funnel(base_url=""), "base_url is empty"),
    "missing id": (with_account({"key": "k", "secret": "s"}), "accounts[1]: id is missing"),
    "empty id": (with_account({"id": " ", "key": "k", "secret": "s"}), "accounts[1]: id is empty"),
    "missing key": (with_account({"id": "taker-1", "secret": "s"}), "taker-1 (accounts[1]): key"),
    "empty key": (with_account({"id": "taker-1", "key": "", "secret": "s"}), "key is empty"),
    "missing secret": (
        with_account({"id": "taker-1", "key": "k"}),
        "taker-1 (accounts[1]): secret",
    ),
    "empty secret": (with_account({"id": "taker-1", "key": "k", "secret": ""}), "secret is empty"),
    "non-string secret": (
        with_account({"id": "taker-1", "key": "k", "secret": 5}),
        "secret must be a string",
    ),
    "duplicate id": (
        with_account({"id": "mm-anchor", "key": "k", "secret": "s"}),
        "duplicate id mm-anchor",
    ),
    "id naming no role": (
        with_account({"id": "mm-l4-buy-50bps", "key": "k", "secret": "s"}),
        "account mm-l4-buy-50bps (accounts[1]): id names no role",
    ),
    "public exchange": (funnel(base_url="https://fapi.binance.com"), "host fapi.binance.com"),
    "public exchange bybit": (funnel(base_url="https://api.bybit.com"), "host api.bybit.com"),
    "public exchange okx": (funnel(base_url="https://www.okx.com"), "host www.okx.com"),
}


def assert_one_line_config_error(code: int, err: str, path: str, says: str) -> None:
    assert code == EX_CONFIG == 78
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert path in err and says in err, err
    assert SECRET not in err


@pytest.mark.parametrize("command", ["check-keys", "run"])
@pytest.mark.parametrize("case", sorted(BAD_KEYS))
def test_bad_keys_exit_78_with_one_line(tmp_path, capsys, command, case):
    doc, says = BAD_KEYS[case]
    path = keys_file(tmp_path / "keys.json", doc)
    code = main([command, "--keys", path])
    err = capsys.readouterr().err
    assert_one_line_config_error(code, err, path, says)


@pytest.mark.parametrize("command", ["check-keys", "run"])
def test_a_keys_file_others_can_read_exits_78_saying_chmod_600(tmp_path, capsys, command):
    path = keys_file(tmp_path / "keys.json", funnel(), mode=0o644)
    code = main([command, "--keys", path])
    assert_one_line_config_error(code, capsys.readouterr().err, path, f"chmod 600 {path}")


@pytest.mark.parametrize("command", ["check-keys", "run"])
def test_a_missing_keys_file_exits_78(tmp_path, capsys, command):
    path = str(tmp_path / "absent.json")
    code = main([command, "--keys", path])
    assert_one_line_config_error(code, capsys.readouterr().err, path, "not found")


@pytest.mark.parametrize("command", ["check-keys", "run"])
def test_the_default_keys_path_is_dot_keys_json_in_the_working_directory(capsys, command):
    assert main([command]) == 78
    assert ".keys.json: keys file not found" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check-keys", "run"])
def test_rocky_keys_path_is_honoured(tmp_path, capsys, monkeypatch, command):
    path = keys_file(tmp_path / "from-env.json", "nope")
    monkeypatch.setenv("ROCKY_KEYS_PATH", path)
    assert main([command]) == 78
    assert f"{path}: not JSON" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check-keys", "run"])
@pytest.mark.parametrize(
    ("name", "value"),
    [("ROCKY_LEVERAGE", "abc"), ("ROCKY_METRICS_PORT", "-1"), ("ROCKY_LOG_FORMAT", "xml")],
)
def test_an_invalid_setting_exits_78_naming_the_variable(
    tmp_path, capsys, monkeypatch, command, name, value
):
    path = keys_file(tmp_path / "keys.json", funnel())
    monkeypatch.setenv(name, value)
    code = main([command, "--keys", path])
    err = capsys.readouterr().err
    assert code == 78
    assert name in err and "Traceback" not in err and err.count("\n") == 1, err


def test_an_invalid_setting_in_dot_env_exits_78(tmp_path, capsys):
    (tmp_path / ".env").write_text("ROCKY_LEVERAGE=lots\n")
    assert main(["check-keys", "--keys", keys_file(tmp_path / "keys.json", funnel())]) == 78
    assert "ROCKY_LEVERAGE" in capsys.readouterr().err


def test_check_keys_prints_a_table_for_a_good_file(tmp_path, capsys):
    path = keys_file(tmp_path / "keys.json", funnel())
    assert main(["check-keys", "--keys", path]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert f"{path}: 30 accounts, base_url {BASE}" in out
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [r[0] for r in rows] == list(STANDARD_FUNNEL)
    assert {r[0]: r[1] for r in rows}["mm-anchor"] == "anchor"
    assert {r[0]: r[1] for r in rows}["mm-l2-buy-20bps"] == "ladder"
    assert {r[0]: r[1] for r in rows}["taker-3"] == "taker"
    assert all(r[2] == "ok" for r in rows)
    assert SECRET not in out


def test_check_keys_warns_once_about_a_partial_funnel(tmp_path, capsys):
    path = keys_file(tmp_path / "keys.json", funnel(ids=("mm-anchor", "taker-1")))
    assert main(["check-keys", "--keys", path]) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if "missing" in line]
    assert len(warnings) == 1
    assert "mm-l1-buy-05bps" in warnings[0] and "taker-5" in warnings[0]
    assert "mm-anchor" not in warnings[0]


def test_check_keys_allows_a_public_host_only_when_told(tmp_path, capsys, monkeypatch):
    path = keys_file(tmp_path / "keys.json", funnel(base_url="https://fapi.binance.com"))
    assert main(["check-keys", "--keys", path]) == 78
    monkeypatch.setenv("ROCKY_ALLOW_PUBLIC_EXCHANGE", "true")
    assert main(["check-keys", "--keys", path]) == 0  # offline: nothing is contacted


@pytest.mark.parametrize(
    "base_url", ["https://testnet.binancefuture.com", "https://demo-fapi.binance.com"]
)
def test_check_keys_accepts_binance_testnets(tmp_path, capsys, base_url):
    assert main(["check-keys", "--keys", keys_file(tmp_path / "k.json", funnel(base_url))]) == 0


# --- hostile keys files: one line, exit 78, promptly, never a secret ----------------------------


def _fifo(path: Path) -> str:
    os.mkfifo(path, 0o600)
    return str(path)


def _huge(path: Path) -> str:
    with open(path, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    os.chmod(path, 0o600)
    return str(path)


def _duplicate_key(path: Path) -> str:
    doc = funnel()
    doc["accounts"][7]["key"] = doc["accounts"][3]["key"]
    return keys_file(path, doc)


HOSTILE = {
    "a FIFO": (_fifo, "keys file is a named pipe (FIFO), not a regular file"),
    "a directory": (lambda p: (p.mkdir(), str(p))[1], "keys file is a directory"),
    "200 MB": (_huge, "keys file is 209715200 bytes, more than the 1048576"),
    "deep nesting": (lambda p: keys_file(p, "[" * 200_000), "JSON nested too deep"),
    "a secret as id": (
        lambda p: keys_file(p, with_account({"id": SECRET, "key": "k", "secret": "s"})),
        f"accounts[1]: id {SECRET[:4]!r}… ({len(SECRET)} chars) names no role",
    ),
    "one API key twice": (_duplicate_key, "key is the same as account mm-l1-buy-07bps"),
    "31 accounts": (
        lambda p: keys_file(p, funnel(ids=(*STANDARD_FUNNEL, "taker-6"))),
        "31 accounts are more than 1 funnel(s) of 30",
    ),
    "two anchors": (
        lambda p: keys_file(p, funnel(ids=("mm-anchor", "mm-anchor-r2"))),
        "mm-anchor-r2 would be extra",
    ),
}


@pytest.mark.parametrize("command", ["check-keys", "run"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_keys_files_exit_78_with_one_line(tmp_path, capsys, command, case):
    make, says = HOSTILE[case]
    path = make(tmp_path / "keys.json")
    code = main([command, "--keys", path])
    assert_one_line_config_error(code, capsys.readouterr().err, path, says)


def test_more_funnels_in_one_file_run_when_the_setting_allows_them(tmp_path, capsys, monkeypatch):
    path = keys_file(tmp_path / "keys.json", funnel(ids=(*STANDARD_FUNNEL, "taker-6")))
    monkeypatch.setenv("ROCKY_FUNNEL_REPLICAS", "2")
    assert main(["check-keys", "--keys", path]) == 0
    assert "31 accounts" in capsys.readouterr().out


def test_check_keys_never_prints_the_password_of_a_base_url(tmp_path, capsys):
    url = f"http://ops:{SECRET}@127.0.0.1:9"
    path = keys_file(tmp_path / "keys.json", funnel(base_url=url))
    assert main(["check-keys", "--keys", path]) == 0
    out, err = capsys.readouterr()
    assert f"base_url {BASE}" in out
    assert SECRET not in out + err and "ops:" not in out + err


@pytest.mark.parametrize("value", ["0", "-168", "inf", "nan"])
def test_a_fee_multiplier_or_soak_span_must_be_a_positive_number(capsys, value):
    for argv in (["sandbox", "--fee-multiplier", value], ["soak", "--duration", value]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2 and "expected a number > 0" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check-keys", "run", "fund"])
def test_fund_refuses_bad_keys_like_every_command(tmp_path, capsys, command, monkeypatch):
    monkeypatch.setenv("ROCKY_ADMIN_TOKEN", "adm-token-for-the-test")
    doc, says = BAD_KEYS[sorted(BAD_KEYS)[0]]
    path = keys_file(tmp_path / "keys.json", doc)
    code = main([command, "--keys", path])
    assert_one_line_config_error(code, capsys.readouterr().err, path, says)


# --- symbols the daemon cannot price, or an IP cannot carry (issue 13) ----------------------------


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"ROCKY_SYMBOLS": "BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT,DOGEUSDT"},
            "request weight a minute (5 symbols × 30 accounts",
        ),
        (
            {"ROCKY_SYMBOLS": "BTCUSDT,SOLUSDT",
             "ROCKY_FEED_URL": "wss://x.test/stream?streams=btcusdt@bookTicker"},
            "no reference feed for SOLUSDT",
        ),
        ({"ROCKY_FEED_SYMBOLS": "ETHUSDT=btcusdt"}, "BTCUSDT and ETHUSDT both follow btcusdt"),
    ],
)  # fmt: skip
def test_settings_that_cannot_run_exit_78_before_any_connection(
    tmp_path, capsys, monkeypatch, env, says
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = keys_file(tmp_path / "keys.json", funnel())
    code = main(["run", "--keys", path])
    err = capsys.readouterr().err
    assert code == 78 and says in err, err
    assert "Traceback" not in err and err.count("\n") == 1, err


def test_plan_prints_the_weight_per_symbol_and_a_split_when_one_ip_is_not_enough(capsys):
    assert main(["plan"]) == 0  # no keys file here: the standard 30-account funnel
    out = capsys.readouterr().out
    assert "30 accounts (the standard funnel) × 2 symbols" in out
    assert "dead-man heartbeat" in out and "fits one IP" in out
    assert main(["plan", "--symbols", "BTCUSDT,ETHUSDT,SOLUSDT,XRPUSDT,DOGEUSDT"]) == 1
    out = capsys.readouterr().out
    assert "shards: BTCUSDT,ETHUSDT,SOLUSDT | XRPUSDT,DOGEUSDT" in out
    assert "a symbol, with its tick" in out and "SOLUSDT 58" in out
