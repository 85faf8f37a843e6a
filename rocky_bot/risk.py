"""Per-account risk: the circuit breaker, a pure state machine with an injected clock.

closed ──trip──▶ open ──cooldown──▶ half-open ──success──▶ closed
                   ▲                     │
                   └────── error ────────┘   (cooldown doubles, up to max_cooldown_s)

Trips on: ≥ max_errors API errors within error_window_s, ≥ max_margin_rejects margin rejections
(-2019/-2010) within margin_window_s, an anomaly the fleet reports (a price jump), or a loss the
account's trading does not explain.

Losses are judged by what is expected (issue 10). A taker pays the taker fee and crosses the
spread on every fill, a maker pays its fee: that bleed is the job, and over hours it would carry
any wallet past a plain drawdown line. So the line is drawn under the *unexplained* loss: the
drop from the wallet's peak minus `cost_slack` × the expected cost (`expected_cost_bps`) of the
notional traded since that peak. A deposit or faucet credit is not a trading gain: it resets the
peak (and so the line) to the wallet after it. A drawdown trip only half-opens once the wallet is
back above the line (a top-up does that), otherwise the breaker would re-open every cooldown and
bleed another slice of the wallet each time.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)
BPS = Decimal("0.0001")


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class TripKind(enum.StrEnum):
    """Why a breaker opened, as a label (counted by the soak, shown on /status)."""

    API_ERRORS = "api_errors"
    MARGIN = "margin"
    DRAWDOWN = "drawdown"
    PRICE_JUMP = "price_jump"
    HALF_OPEN_FAILURE = "half_open_failure"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    max_errors: int = 10
    error_window_s: float = 60.0
    max_margin_rejects: int = 3
    margin_window_s: float = 60.0
    max_drawdown: float = 0.30
    cooldown_s: float = 60.0
    max_cooldown_s: float = 900.0
    #: What this account's trading is expected to cost per traded notional (fees, crossing).
    expected_cost_bps: float = 0.0
    #: How many times the expected cost is still "expected" before a loss counts as unexplained.
    cost_slack: float = 2.0


@dataclass(frozen=True, slots=True)
class Transition:
    """A state change, returned so the caller can log it and cancel orders on a trip."""

    old: BreakerState
    new: BreakerState
    reason: str
    cooldown_s: float
    kind: TripKind | None = None  # set when the breaker opened


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
        self._kind: TripKind | None = None
        self._peak: Decimal | None = None
        self._wallet: Decimal | None = None
        self._traded = ZERO  # cumulative notional traded, as last reported
        self._traded_at_peak = ZERO
        self._allowance_per_notional = (
            Decimal(repr(config.expected_cost_bps)) * BPS * Decimal(repr(config.cost_slack))
        )
        self.trips = 0

    # --- reading ------------------------------------------------------------------------------
    @property
    def state(self) -> BreakerState:
        return self._state

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def kind(self) -> TripKind | None:
        """Why it last opened (None until it has)."""
        return self._kind

    def allows_trading(self) -> bool:
        """True when orders may be sent (call `poll()` first so an expired cooldown counts)."""
        return self._state is not BreakerState.OPEN

    def poll(self) -> Transition | None:
        """Advance time-driven transitions (open → half-open); return the transition if any."""
        if self._state is not BreakerState.OPEN:
            return None
        if self._clock() - self._opened_at < self._cooldown:
            return None
        if self._kind is TripKind.DRAWDOWN and self._below_drawdown_line():
            return None
        return self._move(BreakerState.HALF_OPEN, "cooldown over")

    @property
    def drawdown(self) -> float:
        """The plain drop from the peak, as a share of it (what an operator sees)."""
        if not self._peak or self._wallet is None:
            return 0.0
        return float((self._peak - self._wallet) / self._peak)

    @property
    def allowance_per_notional(self) -> Decimal:
        """The loss each unit of traded notional is allowed before it counts as unexplained."""
        return self._allowance_per_notional

    @property
    def expected_loss(self) -> Decimal:
        """The loss since the peak that the traded notional explains (with slack)."""
        return (self._traded - self._traded_at_peak) * self._allowance_per_notional

    @property
    def unexplained_loss(self) -> Decimal:
        if self._peak is None or self._wallet is None:
            return ZERO
        return max(ZERO, self._peak - self._wallet - self.expected_loss)

    @property
    def drawdown_line(self) -> Decimal | None:
        """The wallet at which the breaker trips, given what has been traded since the peak."""
        if self._peak is None:
            return None
        limit = self._peak * Decimal(repr(self._config.max_drawdown))
        return self._peak - limit - self.expected_loss

    # --- events -------------------------------------------------------------------------------
    def record_error(self, what: str = "api error") -> Transition | None:
        now = self._clock()
        if self._state is BreakerState.HALF_OPEN:
            return self._trip(TripKind.HALF_OPEN_FAILURE, f"{what} while half-open", escalate=True)
        _push(self._errors, now, self._config.error_window_s)
        if self._state is BreakerState.CLOSED and len(self._errors) >= self._config.max_errors:
            return self._trip(
                TripKind.API_ERRORS,
                f"{len(self._errors)} API errors in {self._config.error_window_s:g}s ({what})",
            )
        return None

    def record_margin_reject(self) -> Transition | None:
        now = self._clock()
        if self._state is BreakerState.HALF_OPEN:
            return self._trip(
                TripKind.HALF_OPEN_FAILURE, "margin rejection while half-open", escalate=True
            )
        _push(self._margin, now, self._config.margin_window_s)
        if (
            self._state is BreakerState.CLOSED
            and len(self._margin) >= self._config.max_margin_rejects
        ):
            return self._trip(
                TripKind.MARGIN,
                f"{len(self._margin)} margin rejections in {self._config.margin_window_s:g}s",
            )
        return None

    def record_anomaly(self, kind: TripKind, reason: str) -> Transition | None:
        """Something outside the account says stop (a price jump): open unless already open."""
        if self._state is BreakerState.OPEN:
            return None
        return self._trip(kind, reason)

    def record_success(self) -> Transition | None:
        if self._state is BreakerState.HALF_OPEN:
            self._cooldown = self._config.cooldown_s
            self._errors.clear()  # errors counted while open must not re-trip a fresh close
            self._margin.clear()
            return self._move(BreakerState.CLOSED, "request succeeded while half-open")
        return None

    def update_wallet(
        self, wallet: Decimal, *, traded_notional: Decimal | None = None, deposit: Decimal = ZERO
    ) -> Transition | None:
        """A wallet reading, with the cumulative notional traded so far and any deposit
        (> 0) or withdrawal (< 0) that came in since the last reading."""
        if traded_notional is not None:
            self._traded = traded_notional
        self._wallet = wallet
        if deposit > 0 or self._peak is None:
            self._set_peak(wallet)  # a deposit is not a gain: the line starts again from here
        elif deposit < 0:
            self._peak += deposit
        if wallet > self._peak:
            self._set_peak(wallet)
        if self._state is not BreakerState.OPEN and self._below_drawdown_line():
            return self._trip(
                TripKind.DRAWDOWN,
                f"drawdown {self.drawdown:.0%} from peak {self._peak}, "
                f"{self.unexplained_loss:.2f} beyond the expected {self.expected_loss:.2f}",
            )
        return None

    # --- internals ----------------------------------------------------------------------------
    def _set_peak(self, wallet: Decimal) -> None:
        self._peak = wallet
        self._traded_at_peak = self._traded

    def _below_drawdown_line(self) -> bool:
        line = self.drawdown_line
        return line is not None and self._wallet is not None and self._wallet <= line

    def _trip(self, kind: TripKind, reason: str, *, escalate: bool = False) -> Transition:
        if escalate:
            self._cooldown = min(self._cooldown * 2, self._config.max_cooldown_s)
        self._opened_at = self._clock()
        self._errors.clear()
        self._margin.clear()
        self.trips += 1
        if not (escalate and self._kind is not None):
            self._kind = kind  # a half-open failure keeps the original cause
        return self._move(BreakerState.OPEN, reason, kind)

    def _move(self, new: BreakerState, reason: str, kind: TripKind | None = None) -> Transition:
        old, self._state, self._reason = self._state, new, reason
        return Transition(old, new, reason, self._cooldown, kind)


def _push(window: deque[float], now: float, span: float) -> None:
    window.append(now)
    while window and now - window[0] > span:
        window.popleft()
