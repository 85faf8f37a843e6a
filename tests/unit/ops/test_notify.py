"""sd_notify against real AF_UNIX datagram sockets: what systemd receives is what we assert."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rocky_bot.ops.notify import SystemdNotifier


def _receiver(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(2.0)
    return sock


def _recv(sock: socket.socket) -> str:
    return sock.recv(4096).decode("utf-8")


def _nothing_pending(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        sock.recv(4096)
    except BlockingIOError:
        return True
    finally:
        sock.settimeout(2.0)
    return False


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    # AF_UNIX paths are limited to 107 bytes; pytest's tmp_path can be longer than that.
    base = str(tmp_path) if len(str(tmp_path)) < 90 else tempfile.mkdtemp(prefix="sdn")
    address = os.path.join(base, "notify")
    sock = _receiver(address)
    yield address, sock
    sock.close()


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    if not sys.platform.startswith("linux"):
        pytest.skip("abstract-namespace sockets are Linux-only")
    name = f"rocky-bot-test-{uuid.uuid4().hex}"
    sock = _receiver("\0" + name)
    yield "@" + name, sock
    sock.close()


def test_sends_each_lifecycle_message_to_a_path_socket(path_socket) -> None:
    address, sock = path_socket
    notifier = SystemdNotifier(address)
    assert notifier.enabled

    notifier.ready("quoting 30 accounts")
    assert _recv(sock) == "READY=1\nSTATUS=quoting 30 accounts"
    notifier.watchdog()
    assert _recv(sock) == "WATCHDOG=1"
    notifier.status("feed age 0.2 s, 0 breakers open")
    assert _recv(sock) == "STATUS=feed age 0.2 s, 0 breakers open"
    notifier.stopping()
    assert _recv(sock) == "STOPPING=1"
    notifier.close()


def test_ready_without_status_is_a_bare_ready(path_socket) -> None:
    address, sock = path_socket
    SystemdNotifier(address).ready()
    assert _recv(sock) == "READY=1"


def test_abstract_namespace_socket_receives_notifications(abstract_socket) -> None:
    address, sock = abstract_socket
    notifier = SystemdNotifier(address)
    notifier.ready()
    notifier.watchdog()
    notifier.stopping()
    assert [_recv(sock) for _ in range(3)] == ["READY=1", "WATCHDOG=1", "STOPPING=1"]


def test_default_socket_comes_from_notify_socket_env(path_socket, monkeypatch) -> None:
    address, sock = path_socket
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    SystemdNotifier().watchdog()
    assert _recv(sock) == "WATCHDOG=1"


def test_status_text_cannot_inject_protocol_fields(path_socket) -> None:
    address, sock = path_socket
    SystemdNotifier(address).status("all good\nREADY=1")
    assert _recv(sock) == "STATUS=all good READY=1"


def test_unset_socket_is_a_silent_no_op(monkeypatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier()
    assert not notifier.enabled
    notifier.ready("x")
    notifier.watchdog()
    notifier.status("x")
    notifier.stopping()
    assert notifier.notify("READY=1") is False


def test_explicit_none_disables_even_under_systemd(path_socket, monkeypatch) -> None:
    address, sock = path_socket
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    SystemdNotifier(None).ready()
    assert _nothing_pending(sock)


def test_send_errors_never_raise(tmp_path: Path) -> None:
    notifier = SystemdNotifier(str(tmp_path / "nobody-listens"))
    assert notifier.enabled
    for _ in range(3):  # logged once, never raised
        notifier.ready()
        notifier.watchdog()
    assert notifier.notify("WATCHDOG=1") is False


def test_unsupported_socket_kind_is_ignored() -> None:
    notifier = SystemdNotifier("vsock:2:1234")
    assert not notifier.enabled
    notifier.ready()


@pytest.mark.parametrize(
    ("env", "timeout", "interval"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 30.0, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30.0, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None, None),  # another process's
        ({"WATCHDOG_USEC": "0"}, None, None),
        ({"WATCHDOG_USEC": "soon"}, None, None),
        ({}, None, None),
    ],
)
def test_watchdog_period_is_half_of_watchdog_usec(env, timeout, interval) -> None:
    notifier = SystemdNotifier(None, environ=env)
    assert notifier.watchdog_timeout_s() == timeout
    assert notifier.watchdog_interval_s() == interval
