"""`rocky-bot mint` refusals that happen before any request: one line, exit 78, no account made."""

from __future__ import annotations

import pytest

from rocky_bot.cli import main

NOWHERE = "http://127.0.0.1:9"  # discard port: nothing here may ever be contacted


@pytest.fixture(autouse=True)
def token(monkeypatch):
    monkeypatch.delenv("ROCKY_ADMIN_TOKEN_FILE", raising=False)
    monkeypatch.setenv("ROCKY_ADMIN_TOKEN", "adm-unit-test-token")


def test_a_keys_file_that_cannot_be_created_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "sub" / "keys.json"
    assert main(["mint", "--base-url", NOWHERE, "--out", str(out)]) == 78
    assert capsys.readouterr().err == (
        f"rocky-bot: {out}: cannot create keys file: Not a directory\n"
    )


def test_a_dangling_symlink_at_the_keys_path_counts_as_existing(tmp_path, capsys):
    out = tmp_path / "keys.json"
    out.symlink_to(tmp_path / "elsewhere.json")  # O_EXCL: never created through
    assert main(["mint", "--base-url", NOWHERE, "--out", str(out)]) == 78
    assert "already exists; refusing to overwrite" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere.json").exists()
