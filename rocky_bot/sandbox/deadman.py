"""Dead-man switches (POST /fapi/v1/countdownCancelAll): per account and symbol, a deadline after
which every open order of that account on that symbol is cancelled unless the switch is re-armed.

Only the deadlines live here; the engine does the cancelling. Pure: the caller passes the time.
"""

from __future__ import annotations

from rocky_bot.sandbox import errors


class Countdowns:
    def __init__(self) -> None:
        self._deadlines: dict[tuple[str, str], int] = {}

    def arm(self, account: str, symbol: str, countdown_ms: int, now_ms: int) -> None:
        """Arm (or with 0, disarm) the switch; a negative countdown is invalid data."""
        if countdown_ms < 0:
            raise errors.invalid_data("countdownTime")
        if countdown_ms == 0:
            self._deadlines.pop((account, symbol), None)
        else:
            self._deadlines[(account, symbol)] = now_ms + countdown_ms

    def pop_due(self, now_ms: int) -> list[tuple[str, str]]:
        """The (account, symbol) pairs whose time ran out; they are disarmed."""
        due = [key for key, deadline in self._deadlines.items() if deadline <= now_ms]
        for key in due:
            del self._deadlines[key]
        return due
