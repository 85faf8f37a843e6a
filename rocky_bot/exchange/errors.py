"""One error tree for everything the exchange can answer, translated only in the client.

    ExchangeError
    ├── ApiError(code, msg, http_status)      the exchange answered with a Binance error body
    │   ├── RejectedError                     a business "no": margin, filters, post-only, ...
    │   │   └── UnsupportedError(capability)  the exchange lacks that feature (modify, IOC, ...)
    │   ├── RetryableError                    try again later (5xx with a known outcome, -1003, ...)
    │   │   └── RateLimitedError(retry_after) 429 / 418: pause the client (418: every client)
    │   ├── UnknownStatusError                timeout, 503, -1006, -1007: the order may exist
    │   └── FatalError                        keys or signature wrong: no retry will help
    ├── TransportError                        no answer at all (refused, reset, timeout)
    │   (a timed-out *order* request is raised as UnknownStatusError instead)
    └── MalformedReplyError                   an answer we cannot parse (HTML, bad JSON)

Strategies never see HTTP; loops catch ExchangeError and let the breaker count it.
"""

from __future__ import annotations

#: Binance codes that mean "the request may or may not have been executed".
UNKNOWN_STATUS_CODES = frozenset({-1006, -1007})
#: Codes that mean "that order is already gone" on cancel/query.
ORDER_GONE_CODES = frozenset({-2011, -2013})
#: Margin rejections, counted separately by the breaker.
MARGIN_CODES = frozenset({-2019, -2010})
#: Credentials are wrong: retrying cannot help.
FATAL_CODES = frozenset({-2014, -2015, -1022, -1002})
#: Clock outside recvWindow.
TIMESTAMP_CODE = -1021
#: Endpoint or feature missing on this exchange (used to detect capabilities once).
UNSUPPORTED_CODES = frozenset({-1000, -1100, -1102, -1116, -1121, -4000, -5000})


class ExchangeError(Exception):
    """Anything that went wrong talking to the exchange."""


class TransportError(ExchangeError):
    """No reply: connection refused or reset, or a timeout on a request that is safe to repeat."""


class MalformedReplyError(ExchangeError):
    """The reply could not be parsed into what the endpoint promises."""

    def __init__(self, endpoint: str, problem: str) -> None:
        super().__init__(f"{endpoint}: {problem}")
        self.endpoint = endpoint
        self.problem = problem


class ApiError(ExchangeError):
    def __init__(self, code: int, msg: str, http_status: int) -> None:
        super().__init__(f"[{code}] {msg} (HTTP {http_status})")
        self.code = code
        self.msg = msg
        self.http_status = http_status


class RejectedError(ApiError):
    """The exchange understood and said no."""

    @property
    def is_margin(self) -> bool:
        return self.code in MARGIN_CODES

    @property
    def order_gone(self) -> bool:
        return self.code in ORDER_GONE_CODES


class UnsupportedError(RejectedError):
    """The exchange lacks a capability (modify, countdown, ioc, user_stream): fall back.

    Raised once from the exchange's own answer, then at once (http_status 0) without a request.
    """

    def __init__(self, capability: str, code: int, msg: str, http_status: int) -> None:
        super().__init__(code, f"{capability} unsupported: {msg}", http_status)
        self.capability = capability


class RetryableError(ApiError):
    """A transient failure whose outcome is known (nothing happened)."""


class RateLimitedError(RetryableError):
    def __init__(self, code: int, msg: str, http_status: int, retry_after_s: float) -> None:
        super().__init__(code, msg, http_status)
        self.retry_after_s = retry_after_s

    @property
    def is_ban(self) -> bool:
        return self.http_status == 418


class UnknownStatusError(ApiError):
    """The request may or may not have taken effect: look it up before doing it again."""


class FatalError(ApiError):
    """Credentials or signature refused; retrying will not help."""


def classify(code: int, msg: str, http_status: int, retry_after_s: float = 0.0) -> ApiError:
    """Map a Binance error reply onto the tree. Pure, so it is tested table-driven."""
    if http_status in (418, 429) or code == -1003:
        return RateLimitedError(code, msg, http_status, retry_after_s)
    if code in UNKNOWN_STATUS_CODES or (http_status == 503 and code in (0, -1000, -1001)):
        return UnknownStatusError(code, msg, http_status)
    if code in FATAL_CODES or http_status == 401:
        return FatalError(code, msg, http_status)
    if http_status >= 500:
        return RetryableError(code, msg, http_status)
    return RejectedError(code, msg, http_status)


def should_retry(exc: BaseException) -> bool:
    """Whether repeating the *same* request blindly is safe (never true for an unknown status)."""
    return isinstance(exc, (RetryableError, TransportError)) and not isinstance(
        exc, RateLimitedError
    )
