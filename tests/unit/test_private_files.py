"""Writing a secret file: never through a planted symlink, never readable by others, never half
written under the real name; each failure one ConfigError line naming the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rocky_bot.config_errors import ConfigError
from rocky_bot.keys import load_keys, write_keys
from rocky_bot.private_files import read_private_file, write_private_file

BASE = "http://127.0.0.1:8765"
SECRET = "s3cr3t-written-only-where-asked-0123456789"
ACCOUNTS = [("mm-anchor", "k1", SECRET)]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_symlink_planted_at_the_old_temp_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    victim.chmod(0o644)
    keys = tmp_path / "keys.json"
    (tmp_path / "keys.json.tmp").symlink_to(victim)  # where the old code wrote, O_TRUNC
    write_keys(keys, BASE, ACCOUNTS)
    assert victim.read_text() == "precious\n" and mode(victim) == 0o644
    assert stat.S_ISREG(keys.lstat().st_mode) and mode(keys) == 0o600
    assert load_keys(keys).accounts[0].secret == SECRET
    assert (tmp_path / "keys.json.tmp").is_symlink()  # left alone, not written through


def test_a_symlink_at_the_keys_path_is_replaced_and_its_target_left_alone(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    keys = tmp_path / "keys.json"
    keys.symlink_to(victim)
    write_keys(keys, BASE, ACCOUNTS)
    assert victim.read_text() == "precious\n"
    assert not keys.is_symlink() and mode(keys) == 0o600


def test_the_file_is_600_from_the_first_byte_even_with_a_permissive_umask(tmp_path, monkeypatch):
    seen_modes: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the temporary file's mode while it holds the secret
        if stat.S_ISREG(os.fstat(fd).st_mode):
            seen_modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    old_umask = os.umask(0)
    try:
        write_keys(tmp_path / "keys.json", BASE, ACCOUNTS)
    finally:
        os.umask(old_umask)
    assert seen_modes == [0o600]
    assert mode(tmp_path / "keys.json") == 0o600


def test_the_data_is_synced_before_the_rename(tmp_path, monkeypatch):
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: Path) -> None:
        calls.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_private_file(tmp_path / "token", b"t", what="token file")
    assert calls[:2] == ["fsync", "replace"]  # then the directory is synced too
    assert calls.count("fsync") == 2


def test_a_failed_write_leaves_no_temporary_file_and_says_why(tmp_path):
    target = tmp_path / "keys.json"
    target.mkdir()  # a directory where the file should go: the rename fails
    with pytest.raises(ConfigError) as info:
        write_keys(target, BASE, ACCOUNTS)
    assert str(info.value).startswith(f"{target}: cannot write keys file: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]
    assert list(target.iterdir()) == []


def test_an_unwritable_directory_is_one_line(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="cannot write keys file: Permission denied"):
        write_keys(locked / "keys.json", BASE, ACCOUNTS)


def test_a_write_replaces_the_previous_content_whole(tmp_path):
    path = tmp_path / "token"
    write_private_file(path, b"first-and-longer", what="token file")
    write_private_file(path, b"second", what="token file")
    assert read_private_file(path, what="token file", max_bytes=64) == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token"]
