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
#: One reading per step (its first) and the newest: a busy account's wallet changes with every
#: fill, a stream update a second or more, and the burn needs only the ends of the hour. Keeping
#: each update (720 of them, ~300 B each) grew the daemon ~1.6 MB an hour for hours in the soak.
STEP_S = 60.0
#: Readings kept: the first of each step of the window, and the newest.
MAX_SAMPLES = int(WINDOW_S // STEP_S) + 2


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
    def __init__(self, maxlen: int = MAX_SAMPLES, fund_floor: Decimal | None = None) -> None:
        self._readings: deque[Reading] = deque(maxlen=maxlen)
        self.deposited = Decimal(0)
        self.last_deposit_at: float | None = None
        #: The wallet under which the funding timer tops up, and since when the wallet has been
        #: under it without a deposit (None: above it). A deposit that leaves it under the floor
        #: restarts the clock: the timer is working.
        self.fund_floor = fund_floor
        self.unfunded_since: float | None = None

    def __len__(self) -> int:
        return len(self._readings)

    def note(self, at: float, wallet: Decimal, traded: Decimal, deposit: Decimal = Decimal(0)):
        if deposit:
            self.deposited += deposit
            if deposit > 0:
                self.last_deposit_at = at
        self._keep(Reading(at, wallet - self.deposited, traded))
        if self.fund_floor is not None:
            if wallet >= self.fund_floor:
                self.unfunded_since = None
            elif self.unfunded_since is None or deposit > 0:
                self.unfunded_since = at

    def _keep(self, reading: Reading) -> None:
        """The first reading of each step of the last hour and the newest: memory
        O(WINDOW_S / STEP_S) however often the wallet changes, a burn from the second reading
        on, and over the whole hour, not its last minutes."""
        readings = self._readings
        while readings and reading.at - readings[0].at > WINDOW_S:
            readings.popleft()  # never inside the window again: time only moves forward
        if len(readings) >= 2 and readings[-2].at // STEP_S == readings[-1].at // STEP_S:
            readings.pop()  # not its step's first, and no longer the newest
        readings.append(reading)

    def unfunded_s(self, now: float) -> float | None:
        """How long the wallet has been under the funding floor without a deposit."""
        return None if self.unfunded_since is None else now - self.unfunded_since

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


@dataclass(frozen=True, slots=True)
class RunwayPolicy:
    """When a short runway is a problem (issue 10).

    Every taker's wallet lasts less than a day without funding (that is what the funding timer
    is for), so a short account runway alone is normal. It is a problem when the account has
    been under the floor the funding timer tops up from for `quiet_s` without a deposit (the
    timer runs hourly and funds it within the hour: it is not running), or when the whole fleet
    will be dry within `alert_h`. Counting from when *this account* went under the floor (not
    from the last deposit to anyone) matters: takers bleed alike and are funded together, so
    hours without any funding are normal, and an account just under the floor waits up to an
    hour for the timer. Where that is not known, nobody funded for `quiet_s` (counted from the
    daemon's start at the earliest) stands in for it.
    """

    alert_h: float = 24.0
    quiet_s: float = 7200.0
    fund_floor_usd: float = 50.0


@dataclass(frozen=True, slots=True)
class AccountRunway:
    account: str
    wallet: float | None
    burn_per_day: float | None
    runway_h: float | None
    #: Seconds under the funding floor since it went under or was last funded (None: above it,
    #: or unknown).
    unfunded_s: float | None = None


def fleet_runway(
    accounts: list[AccountRunway],
    last_deposit_at: float | None,
    started_at: float,
    now: float,
    policy: RunwayPolicy,
) -> dict[str, object]:
    """The fleet's wallet, burn and runway, and the 'runway low' problem if it applies."""
    total = sum(a.wallet for a in accounts if a.wallet is not None)
    burn = sum(a.burn_per_day for a in accounts if a.burn_per_day is not None)
    runway_h = total / burn * 24 if burn > 0 else None
    quiet_since = started_at if last_deposit_at is None else max(started_at, last_deposit_at)
    quiet = now - quiet_since > policy.quiet_s
    low = None
    if policy.alert_h > 0:
        dry = sorted(
            (a.runway_h, a.account) for a in accounts
            if a.runway_h is not None and a.runway_h < policy.alert_h
            and a.wallet is not None and a.wallet < policy.fund_floor_usd
            and (quiet if a.unfunded_s is None else a.unfunded_s > policy.quiet_s)
        )  # fmt: skip
        if dry:
            names = ", ".join(f"{name} {hours:.1f} h" for hours, name in dry)
            low = f"runway low, unfunded for {policy.quiet_s / 3600:g} h: {names}"
        elif runway_h is not None and runway_h < policy.alert_h:
            low = f"fleet runway low: {runway_h:.1f} h"
    return {
        "wallet": round(total, 2), "burn_per_day": round(burn, 2),
        "runway_h": None if runway_h is None else round(runway_h, 1),
        "last_funding_s_ago": None if last_deposit_at is None else round(now - last_deposit_at, 1),
        "runway_low": low,
    }  # fmt: skip
