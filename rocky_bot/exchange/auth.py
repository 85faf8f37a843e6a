"""Binance request signing as an `httpx.Auth`, plus the server clock it stamps requests with.

The signature is HMAC-SHA256 over `query string + body` exactly as they travel on the wire
(Binance recomputes it over the raw bytes it receives), so the auth appends `recvWindow` and
`timestamp` (in the order of Binance's own example), reads back the encoded query/body, signs
that, and appends `signature` last.
Which requests need it is said by the caller through a request extension, so public endpoints
(time, exchangeInfo) carry neither key nor signature.

Cheap by design (issue 14: it re-parsed the URL four times per request): a body request keeps
its URL as it came, and a query is parsed once, with the signature already in it; httpx leaves
an urlencoded query as it is, and should it ever re-encode one, the query it would send is
signed instead.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Generator

import httpx

#: Request extension naming the Binance security type of the call.
SECURITY = "binance_security"
#: TRADE / USER_DATA: API key header + timestamp + recvWindow + signature.
SIGNED = "SIGNED"
#: USER_STREAM / MARKET_DATA with key: the API key header only (listenKey calls).
API_KEY = "API_KEY"

API_KEY_HEADER = "X-MBX-APIKEY"
_FORM = "application/x-www-form-urlencoded"


def sign(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of `payload` keyed by `secret`: Binance's `signature` parameter."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def redact_key(api_key: str) -> str:
    """A key short enough to tell accounts apart in a repr, too short to use."""
    return f"{api_key[:4]}…" if len(api_key) >= 12 else "***"


class ServerClock:
    """Local clock plus the offset learnt from `/fapi/v1/time`.

    One per client; `sync_time` sets `offset_ms`, the auth reads `now_ms()` for each attempt, so a
    re-sync after -1021 takes effect on the very next request.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.offset_ms = 0
        self.synced = False  # an offset was learnt (here, or from another client of the host)

    def adopt(self, offset_ms: int) -> None:
        """Take an offset learnt by another client of the same exchange from the same host."""
        self.offset_ms = offset_ms
        self.synced = True

    def local_ms(self) -> int:
        return int(self._clock() * 1000)

    def now_ms(self) -> int:
        return self.local_ms() + self.offset_ms

    def __repr__(self) -> str:
        return f"ServerClock(offset_ms={self.offset_ms})"


class _Secret:
    """Holds a credential so that no repr, vars() dump or log of the owner can print it."""

    __slots__ = ("_hint", "_value")

    def __init__(self, value: str, hint: str = "***") -> None:
        self._value = value
        self._hint = hint

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return repr(self._hint)

    __str__ = __repr__


class BinanceHmacAuth(httpx.Auth):
    """Signs requests whose `binance_security` extension is SIGNED; keys API_KEY ones."""

    requires_request_body = True

    def __init__(
        self,
        api_key: str,
        secret: str,
        server_clock: ServerClock,
        recv_window_ms: int = 5000,
    ) -> None:
        if not 0 < recv_window_ms <= 60_000:
            raise ValueError("recv_window_ms must be in (0, 60000]")
        self._api_key = _Secret(api_key, redact_key(api_key))
        self._secret = _Secret(secret)
        self.server_clock = server_clock
        self.recv_window_ms = recv_window_ms

    def __repr__(self) -> str:
        return f"BinanceHmacAuth(api_key={self._api_key!r}, recv_window_ms={self.recv_window_ms})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        security = request.extensions.get(SECURITY)
        if security == SIGNED:
            request = self._signed(request)
        if security in (SIGNED, API_KEY):
            request.headers[API_KEY_HEADER] = self._api_key.reveal()
        yield request

    def _signed(self, request: httpx.Request) -> httpx.Request:
        """`request` stamped and signed; parameters stay where the caller put them.

        A request with a form body gets the stamp and the signature in it; otherwise the query
        string does (the fleet's own requests carry every parameter in the query: `Wire._build`).
        """
        stamp = f"recvWindow={self.recv_window_ms}&timestamp={self.server_clock.now_ms()}"
        secret = self._secret.reveal()
        body = request.content.decode("ascii")
        query = request.url.query.decode("ascii")
        if body:
            body = _join(body, stamp)
            body += f"&signature={sign(secret, query + body)}"
            headers = httpx.Headers(request.headers)
            headers.pop("Content-Length", None)
            headers["Content-Type"] = _FORM
            return httpx.Request(
                request.method, request.url, headers=headers, content=body.encode("ascii"),
                extensions=request.extensions,
            )  # fmt: skip
        query = _join(query, stamp)
        url = request.url.copy_with(query=f"{query}&signature={sign(secret, query)}".encode())
        sent = url.query.decode("ascii")
        if not sent.startswith(query + "&signature="):  # httpx re-encoded it: sign what it sends
            unsigned = request.url.copy_with(query=query.encode("ascii")).query.decode("ascii")
            url = url.copy_with(query=f"{unsigned}&signature={sign(secret, unsigned)}".encode())
        request.url = url
        return request


def _join(params: str, more: str) -> str:
    return f"{params}&{more}" if params else more
