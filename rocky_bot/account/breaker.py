"""An account's circuit breaker with its consequences: every transition logged and announced.

`risk.CircuitBreaker` is the pure state machine; this wraps it for the running fleet, so the
loops (which poll it and report errors), the executor (which reports margin rejections and
accepted requests) and the upkeep (which reports the wallet) all speak to one object and never
handle a `Transition` themselves. The fleet listens (`on_transition`) to wake the account's
loops: an open breaker pulls quotes at once, a half-open one requotes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import structlog

from rocky_bot.exchange.errors import RateLimitedError, RejectedError
from rocky_bot.risk import BreakerState, CircuitBreaker, Transition, TripKind

log = structlog.get_logger()

_EVENT = {
    BreakerState.OPEN: "breaker_tripped",
    BreakerState.HALF_OPEN: "breaker_half_open",
    BreakerState.CLOSED: "breaker_closed",
}


class AccountBreaker:
    def __init__(
        self,
        account_id: str,
        breaker: CircuitBreaker,
        on_transition: Callable[[str, Transition], None] | None = None,
    ) -> None:
        self.account_id = account_id
        self._breaker = breaker
        self._on_transition = on_transition
        #: Trips so far by cause (`TripKind` value): the soak and /metrics count them.
        self.trips_by_kind: dict[str, int] = {}

    # --- reading ------------------------------------------------------------------------------
    @property
    def state(self) -> BreakerState:
        return self._breaker.state

    @property
    def reason(self) -> str:
        return self._breaker.reason

    @property
    def trips(self) -> int:
        return self._breaker.trips

    @property
    def kind(self) -> TripKind | None:
        return self._breaker.kind

    @property
    def drawdown(self) -> float:
        return self._breaker.drawdown

    @property
    def drawdown_line(self) -> Decimal | None:
        return self._breaker.drawdown_line

    @property
    def allowance_per_notional(self) -> Decimal:
        return self._breaker.allowance_per_notional

    @property
    def unexplained_loss(self) -> Decimal:
        return self._breaker.unexplained_loss

    def allows_trading(self) -> bool:
        """True when orders may be sent; first lets an expired cooldown half-open the breaker."""
        self._report(self._breaker.poll())
        return self._breaker.allows_trading()

    # --- what happened ------------------------------------------------------------------------
    def record_error(self, exc: BaseException) -> None:
        """A failed iteration or duty. A rate-limit pause is the governor's job, not a fault."""
        if isinstance(exc, RejectedError) and exc.is_margin:
            self._report(self._breaker.record_margin_reject())
        elif not isinstance(exc, RateLimitedError):
            self._report(self._breaker.record_error(type(exc).__name__))

    def record_margin_reject(self) -> None:
        self._report(self._breaker.record_margin_reject())

    def record_success(self) -> None:
        """An order request the exchange accepted: what closes a half-open breaker."""
        self._report(self._breaker.record_success())

    def update_wallet(
        self, wallet: Decimal, *, traded_notional: Decimal, deposit: Decimal = Decimal(0)
    ) -> None:
        self._report(
            self._breaker.update_wallet(wallet, traded_notional=traded_notional, deposit=deposit)
        )

    def record_anomaly(self, kind: TripKind, reason: str) -> None:
        self._report(self._breaker.record_anomaly(kind, reason))

    def _report(self, transition: Transition | None) -> None:
        if transition is None:
            return
        if transition.kind is not None:
            kind = transition.kind.value
            self.trips_by_kind[kind] = self.trips_by_kind.get(kind, 0) + 1
        log.warning(
            _EVENT[transition.new], account=self.account_id, reason=transition.reason,
            kind=transition.kind.value if transition.kind else None,
            cooldown_s=transition.cooldown_s,
        )  # fmt: skip
        if self._on_transition is not None:
            self._on_transition(self.account_id, transition)
