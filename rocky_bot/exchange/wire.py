"""One account's request plumbing: signed attempts through httpx, replies into the error tree.

The rules that hold for every endpoint live here: idempotent calls are repeated per
`should_retry`, with the jittered `REQUEST_RETRY` delays; -1021 re-syncs the clock and retries
once; 429/418 pause through the shared governor; an order request without a reply is 'unknown',
never 'failed'; a reply over the size cap is malformed. Every attempt is recorded for metrics.

What a reply means (payload or error) is decided by replies.py, pure; how it travels (httpx's
transport, proxies, pool, the cap and the deadline) by http_client.py.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import structlog

from rocky_bot.backoff import REQUEST_RETRY, Retrier
from rocky_bot.binance_api.weights import COSTS, Cost
from rocky_bot.exchange.auth import SECURITY, SIGNED, BinanceHmacAuth, ServerClock
from rocky_bot.exchange.capabilities import ReplyProblems, problem_kind
from rocky_bot.exchange.errors import (
    TIMESTAMP_CODE,
    ApiError,
    ExchangeError,
    MalformedReplyError,
    RateLimitedError,
    RejectedError,
    TransportError,
    UnknownStatusError,
    should_retry,
)
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.http_client import ReplyTooLarge, new_http_client, read_reply
from rocky_bot.exchange.replies import NOT_JSON, decode, reply_error

log = structlog.get_logger()
T = TypeVar("T")
#: A path the weight table does not know (a dialect setting pointing elsewhere): counted as 1.
UNPRICED = Cost(1, "", note="not in the table: counted as 1")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One HTTP attempt, for metrics and the governor. `weight` is the call's IP weight from the
    table (`binance_api.weights`), `weight_at_1` the same with an order action counted at 1;
    `endpoint` is the path only (the query holds the signature)."""

    account: str
    method: str
    endpoint: str
    http_status: int | None
    code: int | None
    weight: int
    elapsed_s: float
    weight_at_1: int = 0


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
        max_reply_bytes: int,
        max_connections: int,
        rng: random.Random | None,
    ) -> None:
        self.account = account
        self.reply_problems = reply_problems
        self._governor = governor
        self._resync = resync
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._on_request = on_request
        self._timeout_s = timeout_s
        self._max_read_attempts = max(1, max_read_attempts)
        self._max_reply_bytes = max_reply_bytes
        self._log = log.bind(account=account)
        self._http = new_http_client(
            base_url, auth=BinanceHmacAuth(api_key, secret, server_clock, recv_window_ms),
            timeout_s=timeout_s, max_connections=max_connections, transport=transport,
        )  # fmt: skip
        # What `AsyncClient.build_request` would merge into every request, worked out once: it
        # re-parsed the base URL and merged headers, cookies and timeout on each (issue 14).
        self._base = str(self._http.base_url).rstrip("/")
        self._urls: dict[str, httpx.URL] = {}
        self._timeout = {"timeout": self._http.timeout.as_dict()}

    async def aclose(self) -> None:
        await self._http.aclose()

    def retrier(self) -> Retrier:
        """A walk along the request retry policy, sleeping through the client's `sleep`."""
        return REQUEST_RETRY.retrier(self._rng, self._sleep)

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
        idempotent: bool = True,
        order: bool = False,
        max_reply_bytes: int | None = None,
    ) -> Any:
        """One logical call: repeats idempotent ones per `should_retry`, re-syncs on -1021.

        Its weight comes from the table: each attempt is counted by the governor and recorded."""
        cost = COSTS.get((method, path), UNPRICED)
        given = dict(params)
        weights = (cost.ip_weight(given.get), cost.weight_at_1(given.get))
        attempts = self._max_read_attempts if idempotent else 1
        retry, attempt, resynced = self.retrier(), 1, False
        cap = max_reply_bytes or self._max_reply_bytes
        while True:
            try:
                return await self._send(method, path, params, security, weights, order, cap)
            except RejectedError as exc:
                if exc.code != TIMESTAMP_CODE or security != SIGNED or resynced:
                    raise
                resynced = True
                self._log.warning("timestamp_rejected", endpoint=path, code=exc.code)
                await self._resync()
            except ExchangeError as exc:
                if not idempotent or attempt >= attempts or not should_retry(exc):
                    raise
                attempt, delay = attempt + 1, retry.next_delay()
                self._log.info(
                    "request_retried",
                    method=method,
                    endpoint=path,
                    attempt=attempt,
                    reason=type(exc).__name__,
                    delay_s=round(delay, 3),
                )
                await self._sleep(delay)

    async def _send(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]],
        security: str | None,
        weights: tuple[int, int],
        order: bool,
        max_reply_bytes: int,
    ) -> Any:
        """One HTTP attempt → JSON payload, or the error tree. Records the attempt either way."""
        await self._governor.wait_ready(self.account, sleep=self._sleep)
        request = self._build(method, path, params, security)
        started, status, code = time.perf_counter(), None, None
        try:
            try:
                response, body = await read_reply(
                    self._http, request, max_bytes=max_reply_bytes, deadline_s=2 * self._timeout_s
                )
            except ReplyTooLarge as exc:
                status = exc.status
                self.reply_problems.note("too_large", self.account, path, str(exc))
                raise MalformedReplyError(path, str(exc)) from exc
            except httpx.HTTPError as exc:
                raise self._no_reply(method, path, exc, order) from exc
            status = response.status_code
            used = response.headers.get("X-MBX-USED-WEIGHT-1M", "")
            if used.isdigit():
                self._governor.observe(int(used))
            payload = decode(status, body)
            if payload is NOT_JSON:
                kind = response.headers.get("Content-Type", "")
                self.reply_problems.note(
                    "html" if "html" in kind else "not_json", self.account, path,
                    f"HTTP {status}, {kind or 'no content type'}, {len(body)} bytes",
                )  # fmt: skip
            error = self._reply_error(response, payload, order)
            if error is not None:
                code = error.code
                raise error
            if payload is NOT_JSON:
                kind = response.headers.get("Content-Type", "no content type")
                raise MalformedReplyError(path, f"reply is not JSON ({kind}, {len(body)} bytes)")
            if isinstance(payload, dict) and isinstance(payload.get("code"), int):
                code = payload["code"]
            return payload
        finally:
            self._record(method, path, status, code, weights, time.perf_counter() - started)

    def _build(
        self, method: str, path: str, params: Sequence[tuple[str, str]], security: str | None
    ) -> httpx.Request:
        """Every method carries its parameters in the query string, POST and PUT included
        (Binance's own connectors do; the API takes a query or a form body alike). A request
        without a body leaves in one write: a form body went as a second one, a second send
        through the kernel and a second wake-up of the exchange's reader per order action.

        Built as `AsyncClient.build_request` would (the client's headers, its timeout, the path
        under its base URL), from parts worked out once per client and path."""
        extensions = {**self._timeout, SECURITY: security} if security else {**self._timeout}
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = httpx.URL(self._base + path)
        if params:
            url = url.copy_with(query=urlencode(list(params)).encode("ascii"))
        return httpx.Request(method, url, headers=self._http.headers, extensions=extensions)

    def _no_reply(self, method: str, path: str, exc: httpx.HTTPError, order: bool) -> ExchangeError:
        """No HTTP reply. An order request that may have reached the exchange is 'unknown'."""
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        what = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            what += f" after {self._timeout_s:g} s"
        if order and not never_sent:
            return UnknownStatusError(0, f"{what} on {method} {path}: the order may exist", 0)
        return TransportError(f"{method} {path}: {what}")

    def _reply_error(
        self, response: httpx.Response, payload: object, order: bool
    ) -> ApiError | None:
        """`replies.reply_error`, and a 429/418 pauses this client (a 418 every client)."""
        error = reply_error(response.status_code, response.headers, payload, order=order)
        if isinstance(error, RateLimitedError):
            scope = None if error.is_ban else self.account
            self._governor.pause(error.retry_after_s, client_id=scope)
            self._log.warning(
                "rate_limited",
                http_status=response.status_code,
                code=error.code,
                retry_after_s=error.retry_after_s,
            )
        return error

    def _record(
        self,
        method: str,
        path: str,
        status: int | None,
        code: int | None,
        weights: tuple[int, int],
        elapsed: float,
    ) -> None:
        self._governor.note_sent(weights[1])
        if self._on_request is None:
            return
        record = RequestRecord(
            self.account, method, path, status, code, weights[0], elapsed, weights[1]
        )
        try:
            self._on_request(record)
        except Exception as exc:  # a metrics hook must never break trading
            self._log.warning("request_hook_failed", error=type(exc).__name__)
