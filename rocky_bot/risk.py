"""Per-account risk: the circuit breaker, a pure state machine with an injected clock.

closed ──trip──▶ open ──cooldown──▶ half-open ──success──▶ closed
                   ▲                     │
                   └────── error ────────┘   (cooldown doubles, up to max_cooldown_s)

Trips on: ≥ max_errors API errors within error_window_s, ≥ max_margin_rejects margin rejections
(-2019/-2010) within margin_window_s, or the wallet falling max_drawdown below its peak. A drawdown
trip only half-opens once the wallet is back above the line (a faucet top-up raises it), otherwise
the breaker would re-open every cooldown and bleed another slice of the wallet each time.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    max_errors: int = 10
    error_window_s: float = 60.0
    max_margin_rejects: int = 3
    margin_window_s: float = 60.0
    max_drawdown: float = 0.30
    cooldown_s: float = 60.0
    max_cooldown_s: float = 900.0


@dataclass(frozen=True, slots=True)
class Transition:
    """A state change, returned so the caller can log it and cancel orders on a trip."""

    old: BreakerState
    new: BreakerState
    reason: str
    cooldown_s: float


class CircuitBreaker:
    def __init__(self, config: BreakerConfig, clock: Callable[[], float]) -> None:
        self._config = config
        self._clock = clock
        self._errors: deque[float] = deque()
        self._margin: deque[float] = deque()
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._cooldown = config.cooldown_s
        self._reason = ""
        self._peak: Decimal | None = None
        self._wallet: Decimal | None = None
        self.trips = 0

    # --- reading ------------------------------------------------------------------------------
    @property
    def state(self) -> BreakerState:
        return self._state

    @property
    def reason(self) -> str:
        return self._reason

    def allows_trading(self) -> bool:
        """True when orders may be sent (call `poll()` first so an expired cooldown counts)."""
        return self._state is not BreakerState.OPEN

    def poll(self) -> Transition | None:
        """Advance time-driven transitions (open → half-open); return the transition if any."""
        if self._state is not BreakerState.OPEN:
            return None
        if self._clock() - self._opened_at < self._cooldown:
            return None
        if self._reason.startswith("drawdown") and self._below_drawdown_line():
            return None
        return self._move(BreakerState.HALF_OPEN, "cooldown over")

    @property
    def drawdown(self) -> float:
        if not self._peak or self._wallet is None:
            return 0.0
        return float((self._peak - self._wallet) / self._peak)

    # --- events -------------------------------------------------------------------------------
    def record_error(self, what: str = "api error") -> Transition | None:
        now = self._clock()
        if self._state is BreakerState.HALF_OPEN:
            return self._trip(f"{what} while half-open", escalate=True)
        _push(self._errors, now, self._config.error_window_s)
        if self._state is BreakerState.CLOSED and len(self._errors) >= self._config.max_errors:
            return self._trip(
                f"{len(self._errors)} API errors in {self._config.error_window_s:g}s ({what})"
            )
        return None

    def record_margin_reject(self) -> Transition | None:
        now = self._clock()
        if self._state is BreakerState.HALF_OPEN:
            return self._trip("margin rejection while half-open", escalate=True)
        _push(self._margin, now, self._config.margin_window_s)
        if (
            self._state is BreakerState.CLOSED
            and len(self._margin) >= self._config.max_margin_rejects
        ):
            return self._trip(
                f"{len(self._margin)} margin rejections in {self._config.margin_window_s:g}s"
            )
        return None

    def record_success(self) -> Transition | None:
        if self._state is BreakerState.HALF_OPEN:
            self._cooldown = self._config.cooldown_s
            self._errors.clear()  # errors counted while open must not re-trip a fresh close
            self._margin.clear()
            return self._move(BreakerState.CLOSED, "request succeeded while half-open")
        return None

    def update_wallet(self, wallet: Decimal) -> Transition | None:
        self._wallet = wallet
        if self._peak is None or wallet > self._peak:
            self._peak = wallet
        if self._state is not BreakerState.OPEN and self._below_drawdown_line():
            return self._trip(f"drawdown {self.drawdown:.0%} from peak {self._peak}")
        return None

    # --- internals ----------------------------------------------------------------------------
    def _below_drawdown_line(self) -> bool:
        return self.drawdown >= self._config.max_drawdown

    def _trip(self, reason: str, *, escalate: bool = False) -> Transition:
        if escalate:
            self._cooldown = min(self._cooldown * 2, self._config.max_cooldown_s)
        self._opened_at = self._clock()
        self._errors.clear()
        self._margin.clear()
        self.trips += 1
        return self._move(BreakerState.OPEN, reason)

    def _move(self, new: BreakerState, reason: str) -> Transition:
        old, self._state, self._reason = self._state, new, reason
        return Transition(old, new, reason, self._cooldown)


def _push(window: deque[float], now: float, span: float) -> None:
    window.append(now)
    while window and now - window[0] > span:
        window.popleft()
