"""How long an account (or the fleet) can keep trading: burn rate, hours to the line, to empty.

Pure functions over a bounded history of wallet readings. A reading's wallet is taken *net of
deposits* (the faucet credit that refilled it is not income), so a top-up in the window does
not make a bleeding account look profitable.

- burn: the net wallet's decrease per day over the last hour of readings;
- hours to empty: wallet / burn (None while not burning);
- hours to the drawdown line: the breaker's line moves down as the account trades (the expected
  cost of each fill is allowed), so the gap closes at burn minus the allowance earned per hour;
  None when the allowance outruns the burn (a taker bleeding exactly as expected never trips).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

WINDOW_S = 3600.0
#: Readings kept: one per balance read (300 s) or stream update, capped so weeks stay flat.
MAX_SAMPLES = 720


@dataclass(frozen=True, slots=True)
class Reading:
    at: float  # monotonic seconds
    net_wallet: Decimal  # wallet minus every deposit seen so far
    traded: Decimal  # cumulative notional traded


@dataclass(frozen=True, slots=True)
class Runway:
    burn_per_day: float | None
    hours_to_empty: float | None
    hours_to_line: float | None

    @property
    def hours(self) -> float | None:
        """The shorter of the two: how long until the account stops trading by itself."""
        known = [h for h in (self.hours_to_empty, self.hours_to_line) if h is not None]
        return min(known) if known else None


class WalletHistory:
    def __init__(self, maxlen: int = MAX_SAMPLES) -> None:
        self._readings: deque[Reading] = deque(maxlen=maxlen)
        self.deposited = Decimal(0)
        self.last_deposit_at: float | None = None

    def __len__(self) -> int:
        return len(self._readings)

    def note(self, at: float, wallet: Decimal, traded: Decimal, deposit: Decimal = Decimal(0)):
        if deposit:
            self.deposited += deposit
            if deposit > 0:
                self.last_deposit_at = at
        self._readings.append(Reading(at, wallet - self.deposited, traded))

    def _window(self, now: float) -> tuple[Reading, Reading] | None:
        recent = [r for r in self._readings if now - r.at <= WINDOW_S]
        if len(recent) < 2 or recent[-1].at - recent[0].at <= 0:
            return None
        return recent[0], recent[-1]

    def burn_per_day(self, now: float) -> float | None:
        """Net wallet decrease per day over the last hour (None until two readings)."""
        window = self._window(now)
        if window is None:
            return None
        first, last = window
        return float(first.net_wallet - last.net_wallet) / (last.at - first.at) * 86400

    def notional_per_hour(self, now: float) -> float | None:
        window = self._window(now)
        if window is None:
            return None
        first, last = window
        return float(last.traded - first.traded) / (last.at - first.at) * 3600


def runway(
    wallet: Decimal | None,
    line: Decimal | None,
    burn_per_day: float | None,
    allowance_per_hour: float = 0.0,
) -> Runway:
    """Hours to empty and to the drawdown line at the current burn (see the module doc)."""
    if wallet is None or burn_per_day is None or burn_per_day <= 0:
        return Runway(burn_per_day, None, None)
    burn_per_hour = burn_per_day / 24
    to_empty = max(0.0, float(wallet)) / burn_per_hour
    to_line = None
    closing = burn_per_hour - allowance_per_hour
    if line is not None and closing > 0:
        to_line = max(0.0, float(wallet - line)) / closing
    return Runway(burn_per_day, to_empty, to_line)
