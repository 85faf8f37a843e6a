"""The error tree and the pure retry decision, table-driven."""

from __future__ import annotations

import pytest

from rocky_bot.exchange.errors import (
    FatalError,
    MalformedReplyError,
    RateLimitedError,
    RejectedError,
    RetryableError,
    TransportError,
    UnknownStatusError,
    UnsupportedError,
    classify,
    should_retry,
)


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        (-1003, 429, RateLimitedError),
        (-1003, 418, RateLimitedError),
        (0, 429, RateLimitedError),
        (-1006, 500, UnknownStatusError),
        (-1007, 408, UnknownStatusError),
        (0, 503, UnknownStatusError),
        (-1022, 400, FatalError),
        (-2015, 401, FatalError),
        (-2014, 400, FatalError),
        (0, 502, RetryableError),
        (-2019, 400, RejectedError),
        (-2013, 400, RejectedError),
        (-5022, 400, RejectedError),
        (-1021, 400, RejectedError),
    ],
)
def test_classify(code: int, status: int, kind: type) -> None:
    error = classify(code, "msg", status, retry_after_s=3)
    assert type(error) is kind
    assert (error.code, error.http_status) == (code, status)


def test_rate_limit_carries_retry_after_and_ban_flag() -> None:
    error = classify(-1003, "banned", 418, retry_after_s=120)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after_s == 120 and error.is_ban


def test_rejections_say_why() -> None:
    assert classify(-2019, "Margin is insufficient.", 400).is_margin  # type: ignore[attr-defined]
    assert classify(-2011, "Unknown order sent.", 400).order_gone  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (RetryableError(0, "bad gateway", 502), True),
        (TransportError("GET /fapi/v1/time: ConnectError"), True),
        (RateLimitedError(-1003, "slow down", 429, 10), False),
        (UnknownStatusError(-1007, "timeout", 408), False),
        (RejectedError(-2019, "margin", 400), False),
        (FatalError(-1022, "signature", 400), False),
        (MalformedReplyError("/fapi/v1/order", "field orderId is missing"), False),
        (UnsupportedError("modify", -1000, "unknown", 400), False),
    ],
)
def test_should_retry(error: Exception, retry: bool) -> None:
    assert should_retry(error) is retry


def test_unsupported_is_a_rejection_naming_its_capability() -> None:
    error = UnsupportedError("countdown", 0, "learnt earlier", 0)
    assert isinstance(error, RejectedError)
    assert error.capability == "countdown" and "countdown" in str(error)


def test_malformed_names_endpoint_and_problem() -> None:
    error = MalformedReplyError("/fapi/v1/balance", "field [0].asset is missing")
    assert str(error) == "/fapi/v1/balance: field [0].asset is missing"
