"""The signed Binance USDⓈ-M client: one per trading account, one `httpx.AsyncClient` each.

This is the only place where HTTP replies become typed results or the error tree (errors.py):
strategies never see a status code. It also owns the exchange-facing rules that must never be
re-invented by callers: a timed-out order is looked up by its clientOrderId before it is ever
sent again; -1021 re-syncs the clock and retries once; 429/418 pause through the shared governor;
a capability the exchange lacks is learnt once and then refused locally, never retried in a loop.
"""

from __future__ import annotations

import asyncio
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

from rocky_bot.exchange import parse
from rocky_bot.exchange.auth import API_KEY, SECURITY, SIGNED, BinanceHmacAuth, ServerClock
from rocky_bot.exchange.auth import redact_key as _redact_key
from rocky_bot.exchange.errors import (
    ORDER_GONE_CODES,
    TIMESTAMP_CODE,
    UNSUPPORTED_CODES,
    ApiError,
    ExchangeError,
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
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Balance, Order, Position, Side, SymbolRules
from rocky_bot.exchange.paths import WEIGHTS, ApiPaths
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
#: -4116: "ClientOrderId is duplicated": our earlier send did land after all.
DUPLICATE_CLIENT_ORDER_ID = -4116
#: "Unknown endpoint/parameter" answers; -1121 (invalid symbol) is about the symbol, not a feature.
_UNSUPPORTED = UNSUPPORTED_CODES - {-1121}
#: -1115: invalid timeInForce — the answer of an exchange without IOC.
_IOC_UNSUPPORTED = _UNSUPPORTED | {-1115}
_NOT_JSON: Any = object()


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


@dataclass
class Capabilities:
    """What this exchange supports; None until an answer says so."""

    modify: bool | None = None
    countdown: bool | None = None
    ioc: bool | None = None
    user_stream: bool | None = None


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


def plain_decimal(value: Decimal, name: str) -> str:
    """A positive Decimal as Binance wants it: plain digits, never float, never an exponent."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a positive finite Decimal, got {value!r}")
    return format(value, "f")


def retry_after_s(headers: httpx.Headers) -> float:
    try:
        seconds = float(headers.get("Retry-After", ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    return seconds if math.isfinite(seconds) and seconds >= 0 else DEFAULT_RETRY_AFTER_S


def _error_body(payload: object) -> tuple[int, str] | None:
    if not isinstance(payload, dict):
        return None
    code, msg = payload.get("code"), payload.get("msg")
    if isinstance(code, int) and not isinstance(code, bool) and code < 0 and isinstance(msg, str):
        return code, msg
    return None


def _means_unsupported(exc: RejectedError, codes: frozenset[int], by_status: bool) -> bool:
    if isinstance(exc, UnsupportedError) or exc.code in ORDER_GONE_CODES:
        return False
    return exc.code in codes or (by_status and exc.http_status in (404, 405))


class ExchangeClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        secret: str,
        *,
        account: str,
        governor: WeightGovernor,
        paths: ApiPaths = ApiPaths(),  # noqa: B008 - frozen value
        recv_window_ms: int = 5000,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        on_request: Callable[[RequestRecord], None] | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_read_attempts: int = 3,
        reply_problems: ReplyProblems | None = None,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.account = account
        self.paths = paths
        #: Shareable: every account of a fleet talks to one exchange, so what one client learns
        #: (and logs, once) spares the others the same failed request.
        self.capabilities = capabilities or Capabilities()
        self.reply_problems = reply_problems or ReplyProblems()
        self.server_clock = ServerClock(clock)
        self._governor = governor
        self._sleep = sleep
        self._on_request = on_request
        self._timeout_s = timeout_s
        self._max_read_attempts = max(1, max_read_attempts)
        self._key_hint = _redact_key(api_key)
        self._log = log.bind(account=account)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            auth=BinanceHmacAuth(api_key, secret, self.server_clock, recv_window_ms),
            timeout=httpx.Timeout(timeout_s),
            transport=transport or KeepAliveTransport(shared_ssl_context),
            headers={"User-Agent": "rocky-bot"},
            verify=shared_ssl_context(),
        )

    def __repr__(self) -> str:
        return f"ExchangeClient(account={self.account!r}, api_key={self._key_hint!r})"

    async def __aenter__(self) -> ExchangeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------------------ public data

    async def sync_time(self) -> int:
        """Learn the server clock's offset (midpoint of the round trip); returns it in ms."""
        sent = self.server_clock.local_ms()
        reply = await self._call("GET", self.paths.time, security=None, weight=WEIGHTS["time"])
        received = self.server_clock.local_ms()
        server_ms = self._parse(parse.parse_server_time, reply, self.paths.time)
        offset = server_ms - (sent + received) // 2
        self.server_clock.offset_ms = offset
        self._log.info("clock_synced", offset_ms=offset, rtt_ms=received - sent)
        return offset

    async def exchange_info(self) -> dict[str, SymbolRules]:
        path = self.paths.exchange_info
        reply = await self._call("GET", path, security=None, weight=WEIGHTS["exchange_info"])
        return self._parse(parse.parse_exchange_info, reply, path)

    # ----------------------------------------------------------------------------------- orders

    async def place_order(
        self,
        *,
        symbol: str,
        side: Side,
        qty: Decimal,
        price: Decimal | None,
        client_order_id: str,
        time_in_force: str = "GTC",
        order_type: str = "LIMIT",
        reduce_only: bool = False,
    ) -> Order:
        """Place one order; never doubles it (see `_place_exactly_once`)."""
        params = [("symbol", symbol), ("side", str(side)), ("type", order_type)]
        params.append(("quantity", plain_decimal(qty, "qty")))
        if order_type == "LIMIT":
            if price is None:
                raise ValueError("a LIMIT order needs a price")
            params += [("price", plain_decimal(price, "price")), ("timeInForce", time_in_force)]
        params.append(("newClientOrderId", client_order_id))
        if reduce_only:
            params.append(("reduceOnly", "true"))
        place = lambda: self._place_exactly_once(symbol, client_order_id, params)  # noqa: E731
        if time_in_force == "IOC" and order_type == "LIMIT":
            return await self._capability("ioc", place, _IOC_UNSUPPORTED, by_status=False)
        return await place()

    async def _place_exactly_once(
        self, symbol: str, client_order_id: str, params: Sequence[tuple[str, str]]
    ) -> Order:
        """POST; if the outcome is unknown, look the id up, re-send once only if it is not there.

        The re-send reuses the clientOrderId, so should the first send surface late the exchange
        refuses the copy (-4116) instead of opening a second order.
        """
        path, ctx = self.paths.order, {"symbol": symbol, "client_order_id": client_order_id}

        async def send() -> Order:
            reply = await self._call("POST", path, params, weight=0, idempotent=False, order=True)
            return self._parse(parse.parse_order, reply, path)

        try:
            return await send()
        except (UnknownStatusError, MalformedReplyError) as exc:
            self._log.warning("order_status_unknown", **ctx, reason=str(exc))
        delays = backoff()
        if (found := await self._look_up(symbol, client_order_id, next(delays))) is not None:
            self._log.info("order_status_recovered", **ctx, order_id=found.order_id)
            return found
        self._log.info("order_resent", **ctx)
        try:
            return await send()
        except (UnknownStatusError, MalformedReplyError):
            pass
        except RejectedError as exc:
            if exc.code != DUPLICATE_CLIENT_ORDER_ID:
                raise
        if (found := await self._look_up(symbol, client_order_id, next(delays))) is not None:
            self._log.info("order_status_recovered", **ctx, order_id=found.order_id)
            return found
        raise UnknownStatusError(0, f"order {client_order_id} unknown after lookup and resend", 0)

    async def _look_up(self, symbol: str, client_order_id: str, delay_s: float) -> Order | None:
        await self._sleep(delay_s)
        try:
            return await self.get_order(symbol, client_order_id=client_order_id)
        except ExchangeError as exc:
            raise UnknownStatusError(
                0, f"order {client_order_id} status unknown; lookup failed: {exc}", 0
            ) from exc

    async def get_order(
        self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> Order | None:
        """The order, or None if the exchange does not know it (-2013)."""
        path = self.paths.order
        params = _order_ref(symbol, order_id, client_order_id)
        try:
            reply = await self._call("GET", path, params, weight=WEIGHTS["get_order"])
        except RejectedError as exc:
            if exc.order_gone:
                return None
            raise
        return self._parse(parse.parse_order, reply, path)

    async def cancel_order(
        self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> Order | None:
        """The cancelled order, or None if it was already gone (-2011/-2013)."""
        path = self.paths.order
        params = _order_ref(symbol, order_id, client_order_id)
        try:
            reply = await self._call("DELETE", path, params, weight=WEIGHTS["cancel_order"])
        except RejectedError as exc:
            if exc.order_gone:
                return None
            raise
        return self._parse(parse.parse_order, reply, path)

    async def modify_order(
        self, symbol: str, *, order_id: int, side: Side, qty: Decimal, price: Decimal
    ) -> Order:
        """PUT order; `UnsupportedError` (once learnt, without a request) → cancel/replace."""
        path = self.paths.order
        params = [
            ("symbol", symbol),
            ("orderId", str(order_id)),
            ("side", str(side)),
            ("quantity", plain_decimal(qty, "qty")),
            ("price", plain_decimal(price, "price")),
        ]

        async def modify() -> Order:
            reply = await self._call(
                "PUT", path, params, weight=WEIGHTS["modify_order"], idempotent=False, order=True
            )
            return self._parse(parse.parse_order, reply, path)

        return await self._capability("modify", modify, _UNSUPPORTED)

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        path = self.paths.open_orders
        params = [("symbol", symbol)] if symbol else []
        weight = WEIGHTS["open_orders" if symbol else "open_orders_all_symbols"]
        reply = await self._call("GET", path, params, weight=weight)
        return self._parse(parse.parse_open_orders, reply, path)

    async def cancel_all_orders(self, symbol: str) -> None:
        path = self.paths.all_open_orders
        await self._call("DELETE", path, [("symbol", symbol)], weight=WEIGHTS["all_open_orders"])

    # ---------------------------------------------------------------------------------- account

    async def balance(self) -> list[Balance]:
        path = self.paths.balance
        reply = await self._call("GET", path, weight=WEIGHTS["balance"])
        return self._parse(parse.parse_balance, reply, path)

    async def position_risk(self, symbol: str | None = None) -> list[Position]:
        path = self.paths.position_risk
        params = [("symbol", symbol)] if symbol else []
        reply = await self._call("GET", path, params, weight=WEIGHTS["position_risk"])
        return self._parse(parse.parse_position_risk, reply, path)

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        path = self.paths.leverage
        params = [("symbol", symbol), ("leverage", str(int(leverage)))]
        reply = await self._call("POST", path, params, weight=WEIGHTS["leverage"])
        return self._parse(parse.parse_leverage, reply, path)

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        """Arm (or, with 0, disarm) the exchange's dead-man switch for `symbol`."""
        path = self.paths.countdown_cancel_all
        params = [("symbol", symbol), ("countdownTime", str(int(countdown_ms)))]

        async def arm() -> None:
            await self._call("POST", path, params, weight=WEIGHTS["countdown_cancel_all"])

        await self._capability("countdown", arm, _UNSUPPORTED)

    async def new_listen_key(self) -> str:
        path = self.paths.listen_key

        async def create() -> str:
            reply = await self._call("POST", path, security=API_KEY, weight=WEIGHTS["listen_key"])
            return self._parse(parse.parse_listen_key, reply, path)

        return await self._capability("user_stream", create, _UNSUPPORTED)

    async def keepalive_listen_key(self) -> None:
        await self._listen_key_call("PUT")

    async def close_listen_key(self) -> None:
        await self._listen_key_call("DELETE")

    async def _listen_key_call(self, method: str) -> None:
        path = self.paths.listen_key

        async def call() -> None:
            await self._call(method, path, security=API_KEY, weight=WEIGHTS["listen_key"])

        await self._capability("user_stream", call, _UNSUPPORTED)

    # ------------------------------------------------------------------------------ capabilities

    async def _capability(
        self,
        name: str,
        call: Callable[[], Awaitable[T]],
        codes: frozenset[int],
        *,
        by_status: bool = True,
    ) -> T:
        """Run `call`, learning from its answer whether the exchange has capability `name`."""
        if getattr(self.capabilities, name) is False:
            raise UnsupportedError(name, 0, "learnt from an earlier reply", 0)
        try:
            result = await call()
        except RejectedError as exc:
            if not _means_unsupported(exc, codes, by_status):
                raise
            if getattr(self.capabilities, name) is not False:
                setattr(self.capabilities, name, False)
                self._log.warning(
                    "capability_missing",
                    capability=name,
                    code=exc.code,
                    http_status=exc.http_status,
                )
            raise UnsupportedError(name, exc.code, exc.msg, exc.http_status) from exc
        if getattr(self.capabilities, name) is None:
            setattr(self.capabilities, name, True)
        return result

    # -------------------------------------------------------------------------- request plumbing

    def _parse(self, parser: Callable[[Any, str], T], reply: Any, path: str) -> T:
        try:
            return parser(reply, path)
        except MalformedReplyError as exc:
            self.reply_problems.note(problem_kind(exc.problem), self.account, path, exc.problem)
            raise

    async def _call(
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
                await self.sync_time()
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


def _order_ref(
    symbol: str, order_id: int | None, client_order_id: str | None
) -> list[tuple[str, str]]:
    if order_id is not None:
        return [("symbol", symbol), ("orderId", str(order_id))]
    if client_order_id:
        return [("symbol", symbol), ("origClientOrderId", client_order_id)]
    raise ValueError("order_id or client_order_id is required")


def _decode(content: bytes) -> Any:
    """JSON with decimals kept exact; `_NOT_JSON` for anything else (HTML, empty, garbage)."""
    try:
        return json.loads(content, parse_float=Decimal)
    except (ValueError, RecursionError):
        return _NOT_JSON
