"""The one error a user can fix by editing a file: reported in one line, exit status 78."""

from __future__ import annotations

EX_CONFIG = 78  # sysexits.h; the systemd unit has RestartPreventExitStatus=78


class ConfigError(Exception):
    """A configuration problem, with a message that names the file, the account and the field."""
