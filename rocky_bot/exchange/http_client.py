"""The HTTP client under every account's requests: httpx with its own transport, set up once here.

Why httpx's own transport and not a lean one of ours: owning an HTTP/1.1 client cost more than
the ~1.6 % of a core it saved (a 204 hung until the read timeout, proxies were ignored, a body
without framing was read without bound). CPU is won back by sending fewer requests.

What this module adds to httpx's defaults, and why:

- **One TLS context** for every client, from the system store: each context costs ~0.7 MB
  (22 MB at 30 accounts), and the hosts that run rocky-bot trust their proxy's CA there.
- **Proxies from the environment** (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`): httpx
  reads them only when it builds its transports itself, so the standard transport is never
  passed in explicitly; a transport is injected by tests only.
- **A bounded pool** (`max_connections` per account), so a burst cannot open sockets without end.
- **Bounded replies**: `read_reply` streams the body and stops at `max_bytes`, so a huge reply,
  or one without framing that runs until the server closes, cannot fill memory; and the whole
  attempt has one deadline, so a reply dripping a byte at a time cannot hold a call forever.
  Replies are asked for uncompressed: they are small, inflating costs CPU, and it keeps the
  byte cap a memory cap.
- **No cookie jar**: the API sets none, yet httpx ran every reply through urllib's cookie
  machinery (two compatibility objects and a URL parse), ~10 % of a request's CPU (issue 14).
"""

from __future__ import annotations

import asyncio
import functools
import ssl

import httpx

#: Connections per account client: its loops, upkeep and stop rarely have more than a few
#: requests in flight; more than this wait (up to the request timeout) for a free one.
DEFAULT_MAX_CONNECTIONS = 8
#: Replies larger than this are refused (`ReplyTooLarge`): the largest we read, an order list
#: or an account, is a few kilobytes.
DEFAULT_MAX_REPLY_BYTES = 1 << 20


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing and so need not look at replies."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ApiHttpClient(httpx.AsyncClient):
    """`httpx.AsyncClient` (its own transport and all) without the cookie jar."""

    _none = _NoCookies()

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return self._none

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        pass


#: How long an idle connection is kept for reuse. httpx's default (5 s) is shorter than most
#: accounts' gap between requests (an L3 ladder requotes every few minutes), so nearly every
#: request paid for a new TCP (and, in production, TLS) connection: ~12 % of the fleet's CPU in
#: the bench's profile. 55 s stays under the usual 60 s idle cut of load balancers (AWS ALB);
#: a connection the server closed first is noticed before reuse and replaced.
KEEPALIVE_S = 55.0


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (system trust store) for every account's client."""
    return ssl.create_default_context()


def new_http_client(
    base_url: str,
    *,
    auth: httpx.Auth,
    timeout_s: float,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` on httpx's standard transport (or `transport`, in tests)."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_S,
    )  # fmt: skip
    return ApiHttpClient(
        base_url=base_url,
        auth=auth,
        timeout=httpx.Timeout(timeout_s),
        headers={"User-Agent": "rocky-bot", "Accept-Encoding": "identity"},
        verify=shared_ssl_context(),
        limits=limits,
        trust_env=True,
        transport=transport,
    )


class ReplyTooLarge(Exception):
    """A reply body over the cap; nothing past the cap was read."""

    def __init__(self, status: int, size: int, max_bytes: int, *, declared: bool) -> None:
        how = "declares" if declared else "ran past"
        super().__init__(f"HTTP {status} reply {how} {size} bytes, over the {max_bytes}-byte cap")
        self.status = status
        self.size = size


async def read_reply(
    http: httpx.AsyncClient, request: httpx.Request, *, max_bytes: int, deadline_s: float
) -> tuple[httpx.Response, bytes]:
    """Send `request` and read its reply, at most `max_bytes` of body within `deadline_s` in all.

    Raises httpx's exceptions for transport trouble (a missed deadline is an `httpx.ReadTimeout`:
    the request may have been sent) and `ReplyTooLarge` for a body over the cap.
    """
    try:
        async with asyncio.timeout(deadline_s):
            response = await http.send(request, stream=True)
            try:
                return response, await _body(response, max_bytes)
            finally:
                await response.aclose()  # a body not read to the end closes the connection
    except TimeoutError as exc:
        raise httpx.ReadTimeout("reply not complete in time", request=request) from exc


async def _body(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ReplyTooLarge(response.status_code, int(declared), max_bytes, declared=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ReplyTooLarge(response.status_code, size, max_bytes, declared=False)
        chunks.append(chunk)
    return b"".join(chunks)
