"""What an HTTP reply means, as pure functions: its JSON payload, and the error it carries if any.

Apart from wire.py (which does the I/O, the retries and the governor's pauses) so the rules are
tested without a socket: a Binance error body `{"code": -NNNN, "msg": ...}` is an error whatever
the status; a 4xx/5xx without one is an error named by its status; an order request answered
5xx/408 has an unknown outcome; anything else that is not JSON is a malformed reply.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import httpx

from rocky_bot.exchange.errors import (
    ApiError,
    RateLimitedError,
    RetryableError,
    UnknownStatusError,
    classify,
)

#: Retry-After when a 429/418 comes without one (Binance documents it for spot only).
DEFAULT_RETRY_AFTER_S = 60.0
#: The payload of a reply that is not JSON (HTML from a proxy, garbage, an empty body).
NOT_JSON: Any = object()


def decode(status: int, body: bytes) -> Any:
    """JSON with decimals kept exact; None for a 204 (no content); `NOT_JSON` for the rest."""
    if status == 204:
        return None
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):
        return NOT_JSON


def retry_after_s(headers: httpx.Headers) -> float:
    try:
        seconds = float(headers.get("Retry-After", ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    return seconds if math.isfinite(seconds) and seconds >= 0 else DEFAULT_RETRY_AFTER_S


def reply_error(
    status: int, headers: httpx.Headers, payload: object, *, order: bool
) -> ApiError | None:
    """The error a reply carries, or None when it is a success."""
    body = error_body(payload)
    if body is None and status < 400:
        return None
    code, msg = body or (0, f"HTTP {status}" + (" (not JSON)" if payload is NOT_JSON else ""))
    limited = status in (418, 429) or code == -1003
    error = classify(code, msg, status, retry_after_s(headers) if limited else 0.0)
    if isinstance(error, RateLimitedError):
        return error
    if order and (status >= 500 or status == 408):
        return UnknownStatusError(code, msg, status)
    if not order and isinstance(error, UnknownStatusError):
        return RetryableError(code, msg, status)  # a read or a cancel: just ask again
    return error


def error_body(payload: object) -> tuple[int, str] | None:
    """(code, msg) of a Binance error body; None for anything else."""
    if not isinstance(payload, dict):
        return None
    code, msg = payload.get("code"), payload.get("msg")
    if isinstance(code, int) and not isinstance(code, bool) and code < 0 and isinstance(msg, str):
        return code, msg
    return None
