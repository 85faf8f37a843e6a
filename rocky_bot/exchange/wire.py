"""One account's request plumbing: signed requests through httpx, replies into the error tree.

This is where an HTTP reply becomes a JSON payload or an `ExchangeError` (errors.py), and where
the rules that hold for every endpoint live: idempotent calls are repeated per `should_retry`;
-1021 re-syncs the clock and retries once; 429/418 pause through the shared governor; an order
request without a reply is 'unknown', never 'failed'. Every attempt is recorded for metrics.
"""

from __future__ import annotations

import functools
import json
import math
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import structlog

from rocky_bot.exchange.auth import SECURITY, SIGNED, BinanceHmacAuth, ServerClock
from rocky_bot.exchange.capabilities import ReplyProblems, problem_kind
from rocky_bot.exchange.errors import (
    TIMESTAMP_CODE,
    ApiError,
    ExchangeError,
    MalformedReplyError,
    RateLimitedError,
    RejectedError,
    RetryableError,
    TransportError,
    UnknownStatusError,
    classify,
    should_retry,
)
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.transport import KeepAliveTransport


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every account's client: each costs ~0.7 MB (22 MB at 30 accounts).

    The system store is used, as the machines that run rocky-bot trust their proxy's CA there.
    """
    return ssl.create_default_context()


log = structlog.get_logger()
T = TypeVar("T")

#: Retry-After when a 429/418 comes without one (Binance documents it for spot only).
DEFAULT_RETRY_AFTER_S = 60.0
_NOT_JSON: Any = object()


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One HTTP attempt, for metrics and the benchmark. `weight` is the call's documented IP
    weight; `endpoint` is the path only (the query holds the signature)."""

    account: str
    method: str
    endpoint: str
    http_status: int | None
    code: int | None
    weight: int
    elapsed_s: float


def backoff(first_s: float = 0.05, factor: float = 2.0, cap_s: float = 1.0) -> Iterator[float]:
    """Delays between repeats of a request: 50 ms doubling to 1 s (callers bound the count)."""
    delay = first_s
    while True:
        yield delay
        delay = min(cap_s, delay * factor)


def retry_after_s(headers: httpx.Headers) -> float:
    try:
        seconds = float(headers.get("Retry-After", ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    return seconds if math.isfinite(seconds) and seconds >= 0 else DEFAULT_RETRY_AFTER_S


class Wire:
    """The HTTP side of one `ExchangeClient`: it owns the `httpx.AsyncClient`, the endpoint
    methods own what to ask and what the answer means.

    `resync` is the client's clock sync, called (once per call) when a signed request is
    refused with -1021.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        secret: str,
        *,
        account: str,
        governor: WeightGovernor,
        server_clock: ServerClock,
        reply_problems: ReplyProblems,
        resync: Callable[[], Awaitable[object]],
        recv_window_ms: int,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None,
        on_request: Callable[[RequestRecord], None] | None,
        sleep: Callable[[float], Awaitable[object]],
        max_read_attempts: int,
    ) -> None:
        self.account = account
        self.reply_problems = reply_problems
        self._governor = governor
        self._resync = resync
        self._sleep = sleep
        self._on_request = on_request
        self._timeout_s = timeout_s
        self._max_read_attempts = max(1, max_read_attempts)
        self._log = log.bind(account=account)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            auth=BinanceHmacAuth(api_key, secret, server_clock, recv_window_ms),
            timeout=httpx.Timeout(timeout_s),
            transport=transport or KeepAliveTransport(shared_ssl_context),
            headers={"User-Agent": "rocky-bot"},
            verify=shared_ssl_context(),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def parse(self, parser: Callable[[Any, str], T], reply: Any, path: str) -> T:
        try:
            return parser(reply, path)
        except MalformedReplyError as exc:
            self.reply_problems.note(problem_kind(exc.problem), self.account, path, exc.problem)
            raise

    async def call(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        security: str | None = SIGNED,
        weight: int,
        idempotent: bool = True,
        order: bool = False,
    ) -> Any:
        """One logical call: repeats idempotent ones per `should_retry`, re-syncs on -1021."""
        attempts = self._max_read_attempts if idempotent else 1
        delays, attempt, resynced = backoff(), 1, False
        while True:
            try:
                return await self._send(method, path, params, security, weight, order)
            except RejectedError as exc:
                if exc.code != TIMESTAMP_CODE or security != SIGNED or resynced:
                    raise
                resynced = True
                self._log.warning("timestamp_rejected", endpoint=path, code=exc.code)
                await self._resync()
            except ExchangeError as exc:
                if not idempotent or attempt >= attempts or not should_retry(exc):
                    raise
                attempt, delay = attempt + 1, next(delays)
                self._log.info(
                    "request_retried",
                    method=method,
                    endpoint=path,
                    attempt=attempt,
                    reason=type(exc).__name__,
                    delay_s=delay,
                )
                await self._sleep(delay)

    async def _send(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]],
        security: str | None,
        weight: int,
        order: bool,
    ) -> Any:
        """One HTTP attempt → JSON payload, or the error tree. Records the attempt either way."""
        await self._governor.wait_ready(self.account, sleep=self._sleep)
        request = self._build(method, path, params, security)
        started, status, code = time.perf_counter(), None, None
        try:
            try:
                response = await self._http.send(request)
            except httpx.HTTPError as exc:
                raise self._no_reply(method, path, exc, order) from exc
            status = response.status_code
            used = response.headers.get("X-MBX-USED-WEIGHT-1M", "")
            if used.isdigit():
                self._governor.observe(int(used))
            payload = _decode(response.content)
            if payload is _NOT_JSON:
                kind = response.headers.get("Content-Type", "")
                self.reply_problems.note(
                    "html" if "html" in kind else "not_json", self.account, path,
                    f"HTTP {status}, {kind or 'no content type'}, {len(response.content)} bytes",
                )  # fmt: skip
            error = self._api_error(response, payload, order)
            if error is not None:
                code = error.code
                raise error
            if payload is _NOT_JSON:
                kind = response.headers.get("Content-Type", "no content type")
                raise MalformedReplyError(
                    path, f"reply is not JSON ({kind}, {len(response.content)} bytes)"
                )
            if isinstance(payload, dict) and isinstance(payload.get("code"), int):
                code = payload["code"]
            return payload
        finally:
            self._record(method, path, status, code, weight, time.perf_counter() - started)

    def _build(
        self, method: str, path: str, params: Sequence[tuple[str, str]], security: str | None
    ) -> httpx.Request:
        """GET/DELETE carry parameters in the query, POST/PUT in a form body (as ccxt does)."""
        encoded = urlencode(list(params))
        extensions = {SECURITY: security} if security else {}
        if method in ("POST", "PUT") and encoded:
            return self._http.build_request(
                method,
                path,
                content=encoded.encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                extensions=extensions,
            )
        url = f"{path}?{encoded}" if encoded else path
        return self._http.build_request(method, url, extensions=extensions)

    def _no_reply(self, method: str, path: str, exc: httpx.HTTPError, order: bool) -> ExchangeError:
        """No HTTP reply. An order request that may have reached the exchange is 'unknown'."""
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        what = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            what += f" after {self._timeout_s:g} s"
        if order and not never_sent:
            return UnknownStatusError(0, f"{what} on {method} {path}: the order may exist", 0)
        return TransportError(f"{method} {path}: {what}")

    def _api_error(self, response: httpx.Response, payload: object, order: bool) -> ApiError | None:
        status = response.status_code
        body = _error_body(payload)
        if body is None and status < 400:
            return None
        code, msg = body or (0, f"HTTP {status}" + (" (not JSON)" if payload is _NOT_JSON else ""))
        limited = status in (418, 429) or code == -1003
        error = classify(code, msg, status, retry_after_s(response.headers) if limited else 0.0)
        if isinstance(error, RateLimitedError):
            scope = None if error.is_ban else self.account
            self._governor.pause(error.retry_after_s, client_id=scope)
            self._log.warning(
                "rate_limited", http_status=status, code=code, retry_after_s=error.retry_after_s
            )
        elif order and (status >= 500 or status == 408):
            error = UnknownStatusError(code, msg, status)
        elif not order and isinstance(error, UnknownStatusError):
            error = RetryableError(code, msg, status)  # a read or a cancel: just ask again
        return error

    def _record(
        self,
        method: str,
        path: str,
        status: int | None,
        code: int | None,
        weight: int,
        elapsed: float,
    ) -> None:
        if self._on_request is None:
            return
        record = RequestRecord(self.account, method, path, status, code, weight, elapsed)
        try:
            self._on_request(record)
        except Exception as exc:  # a metrics hook must never break trading
            self._log.warning("request_hook_failed", error=type(exc).__name__)


def _error_body(payload: object) -> tuple[int, str] | None:
    if not isinstance(payload, dict):
        return None
    code, msg = payload.get("code"), payload.get("msg")
    if isinstance(code, int) and not isinstance(code, bool) and code < 0 and isinstance(msg, str):
        return code, msg
    return None


def _decode(content: bytes) -> Any:
    """JSON with decimals kept exact; `_NOT_JSON` for anything else (HTML, empty, garbage)."""
    try:
        return json.loads(content, parse_float=Decimal)
    except (ValueError, RecursionError):
        return _NOT_JSON
