"""The systemd notify protocol (sd_notify), in a few lines of stdlib.

`deploy/rocky-bot.service` is `Type=notify` with `WatchdogSec=`: systemd considers the daemon
started only when it says `READY=1` (so `systemctl restart` in deploy.sh waits for a quoting
fleet, not for a process that merely exists), and restarts it when the `WATCHDOG=1` pings stop.
The protocol is newline-separated `KEY=value` lines in one datagram sent to the AF_UNIX socket
named by `NOTIFY_SOCKET` (a leading `@` means Linux's abstract namespace). Outside systemd the
variable is unset and every call is a no-op, so the daemon runs the same code on a laptop.

Sending never raises and never blocks the event loop: a lost ping is retried by the next one,
and a failing socket must not take down a healthy trading daemon. The first failure is logged.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

log = structlog.get_logger()

_FROM_ENV = object()  # sentinel: read NOTIFY_SOCKET when the notifier is built, not at import


class SystemdNotifier:
    """Tells systemd about the daemon's life cycle: ready, alive, status line, stopping.

    `socket_path` defaults to `$NOTIFY_SOCKET`; None (or an empty value) disables the notifier.
    `environ` lets tests pass WATCHDOG_USEC/WATCHDOG_PID without touching the process env.
    """

    def __init__(
        self,
        socket_path: str | None = _FROM_ENV,  # type: ignore[assignment]
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        if socket_path is _FROM_ENV:
            socket_path = env.get("NOTIFY_SOCKET")
        self._address = _address(socket_path) if socket_path else None
        if socket_path and self._address is None:
            log.warning("sd_notify_unsupported_socket", socket=socket_path)
        self._watchdog_usec = _watchdog_usec(env)
        self._sock: socket.socket | None = None
        self._failed_once = False

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens for notifications."""
        return self._address is not None

    def ready(self, status: str | None = None) -> None:
        """Start-up is complete (the feed has a fresh mid, every account is set up)."""
        self.notify("READY=1", *([_status_line(status)] if status is not None else []))

    def watchdog(self) -> None:
        """Keep-alive ping; send only while the event loop and the feed are healthy."""
        self.notify("WATCHDOG=1")

    def status(self, text: str) -> None:
        """One-line summary shown by `systemctl --user status rocky-bot`."""
        self.notify(_status_line(text))

    def stopping(self) -> None:
        """Graceful shutdown has begun (orders are being cancelled)."""
        self.notify("STOPPING=1")

    def watchdog_timeout_s(self) -> float | None:
        """systemd's WatchdogSec in seconds, or None when no watchdog watches this process."""
        return None if self._watchdog_usec is None else self._watchdog_usec / 1_000_000

    def watchdog_interval_s(self) -> float | None:
        """How often to send `WATCHDOG=1`: half the timeout (sd_watchdog_enabled(3)'s advice)."""
        timeout = self.watchdog_timeout_s()
        return None if timeout is None else timeout / 2

    def notify(self, *fields: str) -> bool:
        """Send `fields` as one datagram; True if it was handed to the socket."""
        if self._address is None or not fields:
            return False
        payload = "\n".join(fields).encode("utf-8")
        try:
            if self._sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                sock.setblocking(False)  # a full receive queue drops a ping, never stalls the loop
                self._sock = sock
            self._sock.sendto(payload, self._address)
        except OSError as exc:
            if not self._failed_once:
                self._failed_once = True
                log.warning(
                    "sd_notify_failed",
                    socket=self._display_address(),
                    error=exc.strerror or type(exc).__name__,
                )
            return False
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _display_address(self) -> str:
        address = self._address or ""
        return "@" + address[1:] if address.startswith("\0") else address


def _address(socket_path: str) -> str | None:
    """NOTIFY_SOCKET → socket address: `/path`, or `@name` → abstract `\\0name`; else None."""
    if socket_path.startswith("/"):
        return socket_path
    if socket_path.startswith("@") and len(socket_path) > 1:
        return "\0" + socket_path[1:]
    return None  # e.g. systemd ≥ 253's vsock:CID:PORT, which a user unit never gets


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """WATCHDOG_USEC if it is meant for this process (WATCHDOG_PID unset or our pid)."""
    pid = env.get("WATCHDOG_PID")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec if usec > 0 else None


def _status_line(text: str) -> str:
    # A newline would start a new protocol field; keep the summary on its one line.
    return "STATUS=" + str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
