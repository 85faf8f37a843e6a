"""Reading and writing the small owner-only files that hold secrets (keys file, admin token).

Both directions are where outside input meets us. A read must not hang on a FIFO, open a device,
swallow a 200 MB file or accept a file others can read; a write must never follow a symlink
planted where a temporary file would go, nor leave a secret briefly readable by others, nor a
half-written file under the real name after a crash. Every failure is a ConfigError naming the
file, so the CLI answers it with one line and exit 78.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from rocky_bot.config_errors import ConfigError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _check_regular_and_small(path: Path, st: os.stat_result, what: str, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path}: {what} is {_kind(st.st_mode)}, not a regular file")
    if st.st_size > max_bytes:
        raise ConfigError(
            f"{path}: {what} is {st.st_size} bytes, more than the {max_bytes} a {what} may have"
        )


def check_owner_only(path: Path, mode: int) -> None:
    """Refuse a secret file that group or others may read or write (the fix is in the message)."""
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path}: readable by group or others (mode {stat.S_IMODE(mode):o}); "
            f"fix with: chmod 600 {path}"
        )


def read_private_file(path: Path, *, what: str, max_bytes: int, missing_hint: str = "") -> bytes:
    """The bytes of `path`, a regular owner-only file of at most `max_bytes`.

    `os.stat` first, so a FIFO or a device is refused without being opened; then the file is
    opened non-blocking and checked again on the open descriptor (it may have been swapped in
    between), and at most `max_bytes + 1` bytes are read whatever its size claims.
    """
    try:
        _check_regular_and_small(path, os.stat(path), what, max_bytes)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found{missing_hint}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {_reason(exc)}") from None
    try:
        st = os.fstat(fd)
        _check_regular_and_small(path, st, what, max_bytes)
        check_owner_only(path, st.st_mode)
        chunks, left = [], max_bytes + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 16))):
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {_reason(exc)}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:  # it grew while we read it
        raise ConfigError(f"{path}: {what} is more than the {max_bytes} bytes a {what} may have")
    return data


def write_private_file(path: Path, data: bytes, *, what: str) -> None:
    """Replace `path` with `data`, mode 600 from the first byte, atomically.

    The temporary file is made by `mkstemp` in the target directory (a fresh random name,
    O_EXCL, mode 600), so nothing planted there is ever opened or followed; it is fsynced and then
    renamed over `path` (a symlink at `path` is replaced, its target left alone), and the
    directory is fsynced so the rename survives a power cut.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write {what}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ConfigError(f"{path}: cannot write {what}: {_reason(exc)}") from None
        raise
    _fsync_directory(path.parent)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - some file systems cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - nor fsync one
        pass
    finally:
        os.close(fd)
