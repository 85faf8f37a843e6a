"""The keys file: one clear line per mistake (file, account, field), never a secret or a crash."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import STANDARD_FUNNEL, Role
from rocky_bot.keys import AccountKeys, load_keys, public_exchange_host, write_keys

BASE = "http://127.0.0.1:8765"
SECRET = "s3cr3t-never-print-me-0123456789abcdef"


def account(account_id: str = "mm-anchor", **extra: object) -> dict:
    return {"id": account_id, "key": f"key-{account_id}", "secret": SECRET, **extra}


def full_doc(base_url: str = BASE) -> dict:
    return {"base_url": base_url, "accounts": [account(i) for i in STANDARD_FUNNEL]}


def write(path: Path, content: object, mode: int = 0o600) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    os.chmod(path, mode)
    return path


def config_error(path: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_keys(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    assert SECRET not in message
    return message


# --- a good file ---------------------------------------------------------------------------------


def test_a_full_funnel_loads_every_account_with_its_role(tmp_path):
    keys = load_keys(write(tmp_path / "keys.json", full_doc(BASE + "/")))
    assert keys.base_url == BASE  # trailing slash dropped: paths are appended to it
    assert [a.account_id for a in keys.accounts] == list(STANDARD_FUNNEL)
    assert keys.missing == []
    by_id = {a.account_id: a for a in keys.accounts}
    assert by_id["mm-anchor"].spec.role is Role.ANCHOR
    assert by_id["taker-5"].spec.role is Role.TAKER
    assert by_id["mm-l2-sell-25bps"].key == "key-mm-l2-sell-25bps"
    assert by_id["mm-l2-sell-25bps"].secret == SECRET


def test_a_partial_funnel_loads_and_says_what_is_missing(tmp_path):
    doc = {"base_url": BASE, "accounts": [account("mm-anchor"), account("taker-1")]}
    keys = load_keys(write(tmp_path / "keys.json", doc))
    assert [a.account_id for a in keys.accounts] == ["mm-anchor", "taker-1"]
    assert len(keys.missing) == 28
    assert "mm-l1-buy-05bps" in keys.missing
    assert "mm-anchor" not in keys.missing and "taker-1" not in keys.missing


def test_values_are_trimmed(tmp_path):
    doc = {"base_url": f"  {BASE}  ", "accounts": [account(" mm-anchor ", key=" k1\n")]}
    keys = load_keys(write(tmp_path / "keys.json", doc))
    assert keys.base_url == BASE
    assert keys.accounts[0].account_id == "mm-anchor"
    assert keys.accounts[0].key == "k1"


def test_the_secret_never_shows_in_a_repr(tmp_path):
    keys = load_keys(write(tmp_path / "keys.json", full_doc()))
    for shown in (repr(keys.accounts[0]), str(keys.accounts[0]), repr(keys), f"{keys.accounts}"):
        assert SECRET not in shown
    assert "mm-anchor" in repr(keys.accounts[0])


def test_account_keys_repr_hides_the_secret_when_built_directly():
    from rocky_bot.funnel import parse_account_id

    a = AccountKeys("taker-1", "public-key-abcdef", SECRET, parse_account_id("taker-1"))
    assert SECRET not in repr(a) and "taker-1" in repr(a)


# --- one line per mistake, naming file, account and field ----------------------------------------


def test_missing_file(tmp_path):
    message = config_error(tmp_path / "nope.json")
    assert "nope.json" in message and "not found" in message


def test_a_directory_is_not_a_keys_file(tmp_path):
    message = config_error(tmp_path)
    assert str(tmp_path) in message and "is a directory, not a regular file" in message


@pytest.mark.parametrize(
    "content",
    ['{"base_url": ', "base_url: x", "", "{'base_url': 'x'}", b"\xff\xfe\x00{".decode("latin-1")],
)
def test_not_json(tmp_path, content):
    path = tmp_path / "keys.json"
    if content.startswith("\xff"):
        path.write_bytes(content.encode("latin-1"))  # not even UTF-8
        os.chmod(path, 0o600)
    else:
        write(path, content)
    message = config_error(path)
    assert str(path) in message and "not JSON" in message


@pytest.mark.parametrize("doc", [[], [{"id": "mm-anchor"}], 3, None])
def test_not_an_object(tmp_path, doc):
    message = config_error(write(tmp_path / "keys.json", doc))
    assert "expected a JSON object" in message


@pytest.mark.parametrize(
    ("base_url", "says"),
    [
        (None, "base_url is missing"),
        ("", "base_url is empty"),
        ("   ", "base_url is empty"),
        (42, "base_url must be a string"),
        (["http://x"], "base_url must be a string"),
        ("ftp://127.0.0.1", "not an http(s) URL"),
        ("127.0.0.1:8765", "not an http(s) URL"),
    ],
)
def test_bad_base_url(tmp_path, base_url, says):
    doc = {"accounts": [account()]}
    if base_url is not None:
        doc["base_url"] = base_url
    path = write(tmp_path / "keys.json", doc)
    message = config_error(path)
    assert str(path) in message and says in message


@pytest.mark.parametrize("accounts", [None, [], {}, "mm-anchor"])
def test_accounts_must_be_a_non_empty_list(tmp_path, accounts):
    doc = {"base_url": BASE}
    if accounts is not None:
        doc["accounts"] = accounts
    assert "accounts must be a non-empty list" in config_error(write(tmp_path / "k.json", doc))


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"key": "k", "secret": "s"}, "accounts[1]: id is missing"),
        ({"id": "", "key": "k", "secret": "s"}, "accounts[1]: id is empty"),
        ({"id": 7, "key": "k", "secret": "s"}, "accounts[1]: id must be a string, got int"),
        ({"id": "taker-1", "secret": "s"}, "account taker-1 (accounts[1]): key is missing"),
        (
            {"id": "taker-1", "key": " ", "secret": "s"},
            "account taker-1 (accounts[1]): key is empty",
        ),
        (
            {"id": "taker-1", "key": None, "secret": "s"},
            "account taker-1 (accounts[1]): key is miss",
        ),
        ({"id": "taker-1", "key": "k"}, "account taker-1 (accounts[1]): secret is missing"),
        (
            {"id": "taker-1", "key": "k", "secret": ""},
            "account taker-1 (accounts[1]): secret is empty",
        ),
        ({"id": "taker-1", "key": "k", "secret": 123}, "(accounts[1]): secret must be a string"),
        ({"id": "taker-1", "key": ["k"], "secret": "s"}, "(accounts[1]): key must be a string"),
        ("taker-1", "accounts[1]: expected an object with id, key and secret"),
        ({"id": "foo", "key": "k", "secret": "s"}, "accounts[1]: id 'foo'… (3 chars) names no"),
        ({"id": "taker-0", "key": "k", "secret": "s"}, "account taker-0 (accounts[1]): id names"),
        (
            {"id": "mm-l1-buy-11bps", "key": "k", "secret": "s"},
            "account mm-l1-buy-11bps (accounts[1]): id offset 11 bps is not an L1 offset",
        ),
        ({"id": "mm-anchor", "key": "k", "secret": "s"}, "(accounts[1]): duplicate id mm-anchor"),
    ],
)
def test_each_bad_account_names_file_account_and_field(tmp_path, entry, says):
    path = write(tmp_path / "keys.json", {"base_url": BASE, "accounts": [account(), entry]})
    message = config_error(path)
    assert message.startswith(f"{path}: "), message
    assert says in message, message


def test_a_secret_of_the_wrong_type_is_not_echoed(tmp_path):
    entry = {"id": "taker-1", "key": "k", "secret": {"value": SECRET}}
    path = write(tmp_path / "keys.json", {"base_url": BASE, "accounts": [entry]})
    assert "secret must be a string, got dict" in config_error(path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o610, 0o601, 0o777])
def test_a_file_others_can_read_is_refused_with_the_fix(tmp_path, mode):
    path = write(tmp_path / "keys.json", full_doc(), mode=mode)
    message = config_error(path)
    assert str(path) in message
    assert f"chmod 600 {path}" in message
    assert f"{mode:o}" in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_files_are_accepted(tmp_path, mode):
    assert load_keys(write(tmp_path / "keys.json", full_doc(), mode=mode)).accounts


# --- public exchanges ----------------------------------------------------------------------------

PUBLIC = [
    "https://fapi.binance.com",
    "https://api.binance.com/",
    "https://FAPI.Binance.COM",
    "https://fapi.binance.com.",  # the fully qualified spelling is the same host
    "https://api.bybit.com",
    "https://www.okx.com",
    "https://okx.com",
    "https://api.kucoin.com",
    "https://api.hyperliquid.xyz",
    "https://user:pw@fapi.binance.com:443/fapi",
]
NOT_PUBLIC = [
    "https://testnet.binancefuture.com",
    "https://demo-fapi.binance.com",
    "https://testnet.binance.com",
    "https://api-testnet.bybit.com",  # Bybit's testnet
    "https://api-demo.bybit.com",
    "https://openapi-sandbox.kucoin.com",
    "http://127.0.0.1:8765",
    "http://localhost:8765",
    "https://demo-api.rocky.exchange",
    "https://notbinance.com",
    "https://binance.com.example.org",
]


@pytest.mark.parametrize("base_url", PUBLIC)
def test_public_exchange_production_hosts_are_recognised(base_url):
    assert public_exchange_host(base_url) is not None


@pytest.mark.parametrize("base_url", NOT_PUBLIC)
def test_testnets_and_own_venues_are_not_public(base_url):
    assert public_exchange_host(base_url) is None


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://fapi.binance.com", "fapi.binance.com"),
        ("https://api.bybit.com", "api.bybit.com"),
        ("https://www.okx.com", "www.okx.com"),
    ],
)
def test_a_public_exchange_is_refused_naming_the_host(tmp_path, base_url, host):
    path = write(tmp_path / "keys.json", full_doc(base_url))
    message = config_error(path)
    assert str(path) in message
    assert f"host {host}" in message
    assert "ROCKY_ALLOW_PUBLIC_EXCHANGE" in message
    keys = load_keys(path, allow_public_exchange=True)  # the explicit override
    assert keys.base_url == base_url


@pytest.mark.parametrize(
    "base_url", ["https://testnet.binancefuture.com", "https://demo-fapi.binance.com"]
)
def test_binance_testnets_are_allowed(tmp_path, base_url):
    assert load_keys(write(tmp_path / "keys.json", full_doc(base_url))).base_url == base_url


# --- writing -------------------------------------------------------------------------------------


def test_write_keys_creates_an_owner_only_file_that_loads_back(tmp_path):
    path = tmp_path / "sub" / "keys.json"
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        write_keys(path, BASE, [("mm-anchor", "k1", SECRET), ("taker-1", "k2", SECRET)])
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = load_keys(path)
    assert [(a.account_id, a.key, a.secret) for a in keys.accounts] == [
        ("mm-anchor", "k1", SECRET),
        ("taker-1", "k2", SECRET),
    ]
    assert not (tmp_path / "sub" / "keys.json.tmp").exists()


def test_write_keys_replaces_an_existing_file(tmp_path):
    path = write(tmp_path / "keys.json", full_doc())
    write_keys(path, BASE, [("taker-2", "k", SECRET)])
    assert [a.account_id for a in load_keys(path).accounts] == ["taker-2"]
