"""The keys file as hostile input: whatever is at the path, loading it ends in a KeysFile or one
ConfigError line, promptly, without reading a huge file whole and without echoing a secret."""

from __future__ import annotations

import json
import os
import stat
import threading
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import STANDARD_FUNNEL, funnel_ids
from rocky_bot.keys import MAX_KEYS_FILE_BYTES, KeysFile, load_keys, refuse_surplus_accounts

BASE = "http://127.0.0.1:8765"
SECRET = "Zq8s3cr3t-pasted-in-the-wrong-place-0123456789"


def write(path: Path, content: object, mode: int = 0o600) -> Path:
    data = content if isinstance(content, bytes) else None
    if data is None:
        data = (content if isinstance(content, str) else json.dumps(content)).encode()
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def doc(ids=STANDARD_FUNNEL, base_url: str = BASE, **per_account) -> dict:
    accounts = [{"id": i, "key": f"key-{i}", "secret": f"secret-{i}"} for i in ids]
    for account in accounts:
        account.update(per_account)
    return {"base_url": base_url, "accounts": accounts}


def refused(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_keys(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    assert SECRET not in message
    return message


# --- what is at the path ------------------------------------------------------------------------


def test_a_fifo_is_refused_at_once_instead_of_hanging(tmp_path):
    fifo = tmp_path / "keys.json"
    os.mkfifo(fifo, 0o600)
    outcome: list[BaseException | KeysFile] = []
    done = threading.Event()

    def load() -> None:
        try:
            outcome.append(load_keys(fifo))
        except BaseException as exc:
            outcome.append(exc)
        done.set()

    threading.Thread(target=load, daemon=True).start()
    finished = done.wait(5)
    if not finished:  # release the blocked open() so the thread can end, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert finished, "loading a FIFO blocked"
    [error] = outcome
    assert isinstance(error, ConfigError)
    assert str(error) == f"{fifo}: keys file is a named pipe (FIFO), not a regular file"


@pytest.mark.parametrize(("device", "kind"), [("/dev/zero", "a character device")])
def test_a_device_is_refused_without_being_read(device, kind):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    assert refused(Path(device)) == f"{device}: keys file is {kind}, not a regular file"


def test_a_symlink_to_a_regular_file_is_followed(tmp_path):
    real = write(tmp_path / "real.json", doc())
    (tmp_path / "keys.json").symlink_to(real)
    assert len(load_keys(tmp_path / "keys.json").accounts) == 30


def test_a_huge_file_is_refused_without_being_read(tmp_path):
    path = tmp_path / "keys.json"
    with open(path, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB of size, no disk
    os.chmod(path, 0o600)
    tracemalloc.start()
    try:
        message = refused(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message == (
        f"{path}: keys file is 209715200 bytes, more than the {MAX_KEYS_FILE_BYTES} "
        "a keys file may have"
    )
    assert peak < 256 * 1024, f"{peak} bytes allocated: the file was read"


def test_a_file_just_under_the_bound_is_read(tmp_path):
    text = json.dumps(doc())
    padded = text + " " * (MAX_KEYS_FILE_BYTES - len(text))
    assert len(load_keys(write(tmp_path / "keys.json", padded)).accounts) == 30
    assert "more than" in refused(write(tmp_path / "keys.json", padded + " "))


# --- what is in it -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "[" * 100_000,
        '{"base_url": "http://x", "accounts": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"a": ' * 30_000 + "1" + "}" * 30_000,
    ],
    ids=["bare list", "inside accounts", "objects"],
)
def test_deep_nesting_is_one_line(tmp_path, content):
    path = write(tmp_path / "keys.json", content)
    assert refused(path) == f"{path}: not a keys file (JSON nested too deep)"


def test_a_number_too_long_to_convert_is_one_line(tmp_path):
    path = write(tmp_path / "keys.json", '{"base_url": ' + "9" * 5000 + "}")
    assert refused(path) == f"{path}: not JSON we accept (a number with too many digits)"


@pytest.mark.parametrize(
    "entry",
    [
        {"id": SECRET, "key": "k", "secret": "s"},
        {"id": f"mm-{SECRET}", "key": "k", "secret": "s"},  # id-shaped prefix, still not an id
        {"id": SECRET.upper(), "key": "k", "secret": "s"},
        {"id": f"taker-1\n{SECRET}", "key": "k", "secret": "s"},
    ],
)
def test_a_secret_pasted_into_an_id_is_shown_redacted(tmp_path, entry):
    path = write(tmp_path / "keys.json", {"base_url": BASE, "accounts": [entry]})
    message = refused(path)
    assert message.startswith(f"{path}: accounts[0]: id ")
    assert "names no role" in message or "id offset" in message
    assert f"({len(entry['id'])} chars)" in message or "mm-" in message


def test_an_id_with_the_shape_of_an_id_is_shown_in_full(tmp_path):
    path = write(tmp_path / "keys.json", doc(["mm-l4-buy-50bps"]))
    assert "account mm-l4-buy-50bps (accounts[0]): id names no role" in refused(path)


@pytest.mark.parametrize("field", ["key", "secret"])
@pytest.mark.parametrize("bad", ["abc\ndef", "abc def", "clé", "\x00abc", "abc\udcff"])
def test_keys_and_secrets_are_printable_ascii_and_never_echoed(tmp_path, field, bad):
    value = SECRET + bad
    path = write(tmp_path / "keys.json", doc(["taker-1"], **{field: value}))
    message = refused(path)
    assert f"account taker-1 (accounts[0]): {field} must be printable ASCII" in message
    assert bad.strip() not in message


@pytest.mark.parametrize(
    ("base_url", "shown"),
    [
        (SECRET, f"{SECRET[:4]!r}… ({len(SECRET)} chars)"),
        (f"ftp://user:{SECRET}@127.0.0.1/x", "ftp://127.0.0.1/x"),
        (f"http://user:{SECRET}@[::1", None),
        (f"http://user:{SECRET}@host:99999", "http://host:99999"),
        (f"http://host/\x1b[2J{SECRET}", None),
    ],
)
def test_a_bad_base_url_is_never_echoed_with_its_credentials(tmp_path, base_url, shown):
    message = refused(write(tmp_path / "keys.json", doc(base_url=base_url)))
    assert "is not an http(s) URL" in message
    assert "\x1b" not in message
    if shown:
        assert f"base_url {shown} is not" in message


def test_a_base_url_with_user_and_password_loads_but_is_shown_without_them(tmp_path):
    keys = load_keys(write(tmp_path / "keys.json", doc(base_url=f"http://ops:{SECRET}@h:8765/")))
    assert keys.shown_base_url == "http://h:8765"
    assert SECRET not in keys.shown_base_url


def test_one_api_key_for_two_accounts_is_refused_naming_both(tmp_path):
    d = doc(["mm-anchor", "taker-1", "taker-2"])
    d["accounts"][2]["key"] = d["accounts"][0]["key"] = SECRET
    path = write(tmp_path / "keys.json", d)
    assert refused(path) == (
        f"{path}: account taker-2 (accounts[2]): key is the same as account mm-anchor "
        "(accounts[0])'s: one API key may serve one account only (two would quote, cap and "
        "cancel over each other)"
    )


# --- more than one funnel ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "extra"),
    [
        ([*STANDARD_FUNNEL, "taker-6"], "taker-6"),
        (["mm-anchor", "mm-anchor-r2"], "mm-anchor-r2"),
        (["mm-l1-buy-05bps", "taker-1", "mm-l1-buy-05bps-r3"], "mm-l1-buy-05bps-r3"),
        (funnel_ids(60), "mm-anchor-r2, mm-l1-buy-05bps-r2, mm-l1-buy-06bps-r2, "),
    ],
)
def test_more_than_one_funnel_in_a_file_is_refused_naming_the_extras(tmp_path, ids, extra):
    path = write(tmp_path / "keys.json", doc(ids))
    keys = load_keys(path)  # the file itself is valid; the daemon refuses to run it
    with pytest.raises(ConfigError) as info:
        refuse_surplus_accounts(keys, 1)
    message = str(info.value)
    assert message.startswith(f"{path}: {len(ids)} accounts are more than 1 funnel(s) of 30")
    assert extra in message and "ROCKY_FUNNEL_REPLICAS" in message
    refuse_surplus_accounts(keys, 2)  # allowed when asked for


@pytest.mark.parametrize(
    "ids", [STANDARD_FUNNEL, funnel_ids(60)[30:], ["mm-anchor-r2", "taker-7", "taker-1"]]
)
def test_one_funnel_of_any_replica_passes(tmp_path, ids):
    refuse_surplus_accounts(load_keys(write(tmp_path / "keys.json", doc(ids))), 1)


# --- anything at all -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
text = st.text(max_size=40)
account_like = st.fixed_dictionaries(
    {"id": st.sampled_from([*STANDARD_FUNNEL[:3], "foo"]) | text, "key": text},
    optional={"secret": text.map(lambda s: "S3CRET-" + s), "x": json_values},
)
keys_like = st.fixed_dictionaries(
    {
        "base_url": st.sampled_from([BASE, "https://u:S3CRET-pw@h"]) | text | json_values,
        "accounts": st.lists(account_like, max_size=4) | json_values,
    }
)
HYPOTHESIS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def outcome_of(path: Path, content: bytes) -> KeysFile | ConfigError:
    write(path, content)
    try:
        return load_keys(path)
    except ConfigError as exc:
        assert len(str(exc).splitlines()) == 1, str(exc)
        return exc


@HYPOTHESIS
@given(st.binary(max_size=200))
def test_any_bytes_load_or_give_one_config_error(tmp_path, content):
    outcome_of(tmp_path / "keys.json", content)


@HYPOTHESIS
@given(json_values)
def test_any_json_loads_or_gives_one_config_error(tmp_path, value):
    outcome_of(tmp_path / "keys.json", json.dumps(value).encode())


@HYPOTHESIS
@given(keys_like)
def test_any_keys_like_file_never_echoes_a_secret(tmp_path, value):
    outcome = outcome_of(tmp_path / "keys.json", json.dumps(value).encode())
    if isinstance(outcome, ConfigError):
        accounts = value["accounts"] if isinstance(value["accounts"], list) else []
        secrets = [a["secret"] for a in accounts if isinstance(a, dict) and "secret" in a]
        secrets += ["S3CRET-pw"] if "S3CRET-pw" in str(value["base_url"]) else []
        assert not any(s in str(outcome) for s in secrets if len(s) > 7), str(outcome)


def test_the_modes_checked_on_read_are_the_open_file_s(tmp_path):
    path = write(tmp_path / "keys.json", doc(), mode=0o640)
    assert "chmod 600" in refused(path)
    os.chmod(path, stat.S_IRUSR)
    assert len(load_keys(path).accounts) == 30
