"""What every REST call goes through: weight, authentication, order counts, errors, headers.

Endpoints are declared as `Endpoint(handler, security)`; what each costs (IP weight, order counts)
comes from `rocky_bot.binance_api.weights`, the table the bot and the bench read too (the one
import from outside the sandbox: it is data, not the bot). The gateway turns them into Starlette
routes whose wrapper does, in Binance's order: IP weight (429 -1003 past the limit), API key
(-2014/-2015, HTTP 401, from the header alone: an unknown caller's body is never read),
signature for SIGNED calls (-1102, -1022; over the raw strings, so a body is parsed only once it
is signed), timestamp (-1021), the account's order counters (-1015), then the handler. Handlers
are synchronous and return JSON-able values or raise `SandboxError`; every answer is
`application/json`, and bad input is a Binance code, never a 500: a body that is not UTF-8 is
-1100, more than `MAX_PARAMS` parameters -1101, each parameter is read strictly by `Call`
(numbers.py).

Fault injection seam: `FaultHooks`. `FaultMiddleware` hands every HTTP request to `handle`, whose
default asks `before_request` before routing (so a hook can delay, fail, time out or rate-limit
any HTTP request); a subclass may override `handle` itself to run the endpoint and then answer
something else (an order executed but answered 503, a reply mangled on its way back). The
signed-request clock check adds `clock_skew_ms()`, order handlers ask `reject_order()`, and the
price driver's ticks pass `replace_tick()`. The defaults do nothing (see faults.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from rocky_bot.binance_api.weights import Cost, cost_of
from rocky_bot.sandbox import errors
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.rest_call import Call, Endpoint
from rocky_bot.sandbox.rest_limits import OrderCounter, WeightMeter
from rocky_bot.sandbox.signing import Credential, KeyStore, signature_matches, signed_payload

log = structlog.get_logger()

MAX_RECV_WINDOW = 60_000
#: More parameters than any endpoint takes (an order has ~15): past it, Binance's -1101.
MAX_PARAMS = 100
ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


class FaultHooks:
    """Seam for fault injection (latency, 5xx, timeouts, 429/418, clock skew, margin rejects)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """Serve one HTTP request through `app` (a subclass may run it, then answer otherwise)."""
        response = await self.before_request(scope)
        if response is not None:
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    async def before_request(self, scope: Scope) -> Response | None:
        """Return a response to answer instead of the endpoint (may sleep first); None = pass."""
        return None

    def clock_skew_ms(self) -> int:
        """Added to the server's clock for /time and for the recvWindow check."""
        return 0

    def reject_order(self, account: str) -> SandboxError | None:
        """An error to answer a new order with (e.g. a forced -2019), or None."""
        return None

    def replace_tick(self, tick: object) -> bool:
        """True when the hook published something else instead of this market tick."""
        return False


class FaultMiddleware:
    """Pure ASGI middleware: consults the current hooks before any HTTP request is routed."""

    def __init__(self, app: ASGIApp, hooks: Callable[[], FaultHooks]) -> None:
        self.app = app
        self.hooks = hooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.hooks().handle(scope, receive, send, self.app)
            return
        await self.app(scope, receive, send)


def parse_params(text: str) -> dict[str, str]:
    """A query string or form body → parameters; percent-escapes that are not UTF-8 become
    U+FFFD, which no parameter's check lets through (-1100 where one is read)."""
    try:
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_PARAMS))
    except ValueError:  # past max_num_fields
        raise SandboxError(-1101, "Too many parameters sent for this endpoint.") from None


def _check_signature(secret: str, query: str, body: str) -> None:
    """The HMAC over `totalParams` as sent (query + body, the signature cut out): -1102 when
    there is none, -1022 when it is not the key's."""
    payload, signature = signed_payload(query, body)
    if not signature:
        raise errors.missing("signature")
    if not signature_matches(secret, payload, signature):
        raise SandboxError(-1022, "Signature for this request is not valid.")


async def _body_text(request: Request) -> str:
    """The form body as text; bytes that are not UTF-8 are Binance's -1100, never a 500."""
    try:
        return (await request.body()).decode()
    except UnicodeDecodeError:
        raise SandboxError(-1100, "Illegal characters found in a parameter.") from None


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, separators=(",", ":"))
    return Response(content, status, headers=headers, media_type="application/json")


def error_response(err: SandboxError, headers: dict[str, str] | None = None) -> Response:
    return json_response(err.body(), err.http_status, headers)


class Gateway:
    def __init__(
        self,
        keys: KeyStore,
        *,
        weight_limit_per_min: int,
        order_limit_per_10s: int,
        order_limit_per_min: int,
        recv_window_default: int,
        clock_ms: Callable[[], int],
        faults: Callable[[], FaultHooks],
    ) -> None:
        self.keys = keys
        self.weights = WeightMeter(weight_limit_per_min)
        self.orders = OrderCounter(order_limit_per_10s, order_limit_per_min)
        self.recv_window_default = recv_window_default
        self.clock_ms = clock_ms
        self.faults = faults

    def server_time_ms(self) -> int:
        return self.clock_ms() + self.faults().clock_skew_ms()

    def route(self, path: str, **methods: Endpoint) -> Route:
        """A route serving `methods`; each must be priced in the weight table (KeyError if not)."""
        priced = {m: (ep, cost_of(m, path)) for m, ep in methods.items()}

        async def endpoint(request: Request) -> Response:
            return await self.dispatch(request, priced)

        # Every method reaches `dispatch`, which answers unknown ones in Binance's JSON shape.
        return Route(path, endpoint, name=path, methods=ALL_METHODS)

    async def dispatch(
        self, request: Request, methods: dict[str, tuple[Endpoint, Cost]]
    ) -> Response:
        found = methods.get(request.method)
        if found is None:
            msg = f"Method {request.method} is not allowed on {request.url.path[:100]}."
            return error_response(SandboxError(-1000, msg, 405))
        ep, cost = found
        now = self.clock_ms()
        ip = request.client.host if request.client else "unknown"
        headers: dict[str, str] = {}
        try:
            # The query is small (http_limits bounds it) and weights read it (depth's limit).
            query = request.scope["query_string"].decode("latin-1")
            call = Call(parse_params(query), None, now, ip)
            verdict = self.weights.admit(ip, cost.ip_weight(call.get), now)
            headers["X-MBX-USED-WEIGHT-1M"] = str(verdict.used)
            if not verdict.admitted:
                headers["Retry-After"] = str(verdict.retry_after_s)
                raise self._rate_limited(verdict.banned_until_ms)
            cred = None if ep.security == "NONE" else self._api_key(request)
            # Only a known key's body is read (BodyLimit bounds its size), and a signed call's
            # body is parsed only once its signature, over the raw strings, is good.
            body = "" if request.method in ("GET", "HEAD") else await _body_text(request)
            signed = cred is not None and ep.security == "SIGNED"
            if signed:
                _check_signature(cred.secret, query, body)
            if body:
                call.merge_body(parse_params(body))
            if cred is not None:
                if signed:
                    self._check_time(call)
                call.account = cred.account
            if cost.orders_10s or cost.orders_1m:
                self._count_orders(call.who, (cost.orders_10s, cost.orders_1m), now, headers)
            result = ep.handler(call)
        except SandboxError as err:
            return error_response(err, headers)
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is left to read it
        except Exception:
            log.exception("sandbox_request_failed", path=request.url.path)
            err = SandboxError(
                -1000, "An unknown error occurred while processing the request.", 500
            )
            return error_response(err, headers)
        return json_response(result, 200, headers)

    def _rate_limited(self, banned_until_ms: int | None) -> SandboxError:
        if banned_until_ms is not None:
            return SandboxError(
                -1003,
                f"Way too many requests; IP banned until {banned_until_ms}. "
                "Please use the websocket for live updates to avoid bans.",
                418,
            )
        return SandboxError(
            -1003,
            f"Too many requests; current limit is {self.weights.limit} requests per minute. "
            "Please use the websocket for live updates to avoid polling the API.",
            429,
        )

    def _api_key(self, request: Request) -> Credential:
        """The caller's credential from `X-MBX-APIKEY` alone: nothing else is read first."""
        api_key = request.headers.get("X-MBX-APIKEY")
        if not api_key:
            raise SandboxError(-2014, "API-key format invalid.", 401)
        cred = self.keys.get(api_key)
        if cred is None:
            raise SandboxError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return cred

    def _check_time(self, call: Call) -> None:
        """A signed call's `timestamp` within its `recvWindow` of the server's clock."""
        timestamp = call.integer("timestamp")
        if timestamp is None:
            raise errors.missing("timestamp")
        window = call.integer("recvWindow", self.recv_window_default)
        assert window is not None
        if window <= 0 or window > MAX_RECV_WINDOW:
            raise SandboxError(-1131, "recvWindow must be less than 60000")
        server = self.server_time_ms()
        if timestamp >= server + 1000:
            raise SandboxError(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if server - timestamp > window:
            raise SandboxError(-1021, "Timestamp for this request is outside of the recvWindow.")

    def _count_orders(
        self, account: str, counts: tuple[int, int], now: int, headers: dict[str, str]
    ) -> None:
        admitted, used_10s, used_1m, retry = self.orders.admit(account, *counts, now)
        headers["X-MBX-ORDER-COUNT-10S"] = str(used_10s)
        headers["X-MBX-ORDER-COUNT-1M"] = str(used_1m)
        if not admitted:
            headers["Retry-After"] = str(retry)
            limit_10s, limit_1m = self.orders.limits
            raise SandboxError(
                -1015,
                f"Too many new orders; current limit is {limit_10s} orders per 10 SECOND "
                f"and {limit_1m} orders per MINUTE.",
                429,
            )
