"""What the fleet learns about the exchange it talks to, once for every account.

Which optional features it has (modify, countdown, IOC, the user stream, the one-call account
read) is learnt from the first answer and then refused locally, never retried in a loop;
malformed replies are counted by kind and logged once a minute. Both are shareable: thirty
clients talk to one exchange.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import structlog

from rocky_bot.exchange.errors import (
    ORDER_GONE_CODES,
    UNSUPPORTED_CODES,
    RejectedError,
    UnsupportedError,
)

log = structlog.get_logger()
T = TypeVar("T")

#: "Unknown endpoint/parameter" answers; -1121 (invalid symbol) is about the symbol, not a feature.
UNSUPPORTED = UNSUPPORTED_CODES - {-1121}
#: -1115: invalid timeInForce — the answer of an exchange without IOC.
IOC_UNSUPPORTED = UNSUPPORTED | {-1115}


class ReplyProblems:
    """Malformed replies (not JSON, a proxy's HTML page, missing fields, wrong types): counted by
    kind and logged once per kind per `log_every_s`, shared by every client of the fleet.

    A backend that starts answering garbage answers it to every account on every call; one line
    per kind per minute says so without burying everything else in the journal.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, log_every_s: float = 60.0
    ) -> None:
        self.counts: dict[str, int] = {}
        self._clock = clock
        self._every = log_every_s
        self._logged: dict[str, float] = {}

    def note(self, kind: str, account: str, endpoint: str, problem: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        now = self._clock()
        if now - self._logged.get(kind, float("-inf")) >= self._every:
            self._logged[kind] = now
            log.warning(
                "exchange_reply_malformed", kind=kind, account=account, endpoint=endpoint,
                problem=problem[:200], count=self.counts[kind],
            )  # fmt: skip


def problem_kind(problem: str) -> str:
    """The kind of a parser's complaint (parse.py words them `field X is missing` / `is null`)."""
    return "missing_field" if problem.endswith(("is missing", "is null")) else "wrong_type"


class Support(Enum):
    """What is known of one optional feature of the exchange."""

    UNKNOWN = "unknown"  # no answer has said yet: try it
    PRESENT = "present"  # an answer showed it works
    MISSING = "missing"  # an answer showed it is not there: refuse locally, fall back


#: The optional features learnt from answers; each is a field of `Capabilities`.
FEATURES = ("modify", "countdown", "ioc", "user_stream", "account")


@dataclass
class Capabilities:
    """What this exchange supports, one `Support` per feature in `FEATURES`."""

    modify: Support = Support.UNKNOWN
    countdown: Support = Support.UNKNOWN
    ioc: Support = Support.UNKNOWN
    user_stream: Support = Support.UNKNOWN
    account: Support = Support.UNKNOWN

    def support(self, feature: str) -> Support:
        if feature not in FEATURES:
            raise KeyError(f"no such capability: {feature!r}")
        support: Support = getattr(self, feature)
        return support

    def missing(self, feature: str) -> bool:
        """True once an answer showed the exchange lacks `feature`: do not ask again."""
        return self.support(feature) is Support.MISSING

    def usable(self, feature: str) -> bool:
        """True unless `feature` is known missing: worth trying (it may still turn out missing)."""
        return not self.missing(feature)

    def learn(self, feature: str, support: Support) -> bool:
        """Record what an answer showed; True if that is news."""
        if self.support(feature) is support:
            return False
        setattr(self, feature, support)
        return True


async def with_capability(
    capabilities: Capabilities,
    name: str,
    call: Callable[[], Awaitable[T]],
    codes: frozenset[int],
    *,
    by_status: bool = True,
    log: Any = log,
) -> T:
    """Run `call`, learning from its answer whether the exchange has capability `name`.

    Once learnt missing, the call is refused here, without a request (`UnsupportedError`).
    """
    if capabilities.missing(name):
        raise UnsupportedError(name, 0, "learnt from an earlier reply", 0)
    try:
        result = await call()
    except RejectedError as exc:
        if not _means_unsupported(exc, codes, by_status):
            raise
        if capabilities.learn(name, Support.MISSING):
            log.warning(
                "capability_missing",
                capability=name,
                code=exc.code,
                http_status=exc.http_status,
            )
        raise UnsupportedError(name, exc.code, exc.msg, exc.http_status) from exc
    if capabilities.support(name) is Support.UNKNOWN:
        capabilities.learn(name, Support.PRESENT)
    return result


def _means_unsupported(exc: RejectedError, codes: frozenset[int], by_status: bool) -> bool:
    if isinstance(exc, UnsupportedError) or exc.code in ORDER_GONE_CODES:
        return False
    return exc.code in codes or (by_status and exc.http_status in (404, 405))
