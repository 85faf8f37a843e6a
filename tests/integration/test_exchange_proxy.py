"""The exchange client honours the proxy the host is configured with, against the real sandbox.

A host behind a proxy (an EC2 box without a direct route out) sets `HTTPS_PROXY`/`HTTP_PROXY`/
`ALL_PROXY`; the hand-written transport ignored them, so such a daemon never reached its
exchange. A small forward proxy on 127.0.0.1 counts what passes through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from conftest import mint

from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import TransportError
from rocky_bot.exchange.governor import WeightGovernor

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


class ForwardProxy:
    """Plain-HTTP forward proxy: `GET http://host:port/path` is relayed (one request per
    connection); `CONNECT host:port` (what HTTPS_PROXY sends) is counted and refused."""

    def __init__(self) -> None:
        self.forwarded: list[str] = []
        self.tunnels: list[str] = []

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ")
            if method == "CONNECT":
                self.tunnels.append(target)
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            self.forwarded.append(f"{method} {target}")
            await self._relay(method, target, version, header_lines, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _relay(method, target, version, header_lines, reader, writer) -> None:
        assert target.startswith("http://"), "a forward proxy gets absolute URLs"
        host_port, _, path = target[len("http://") :].partition("/")
        host, _, port = host_port.partition(":")
        headers = [h for h in header_lines if not h.lower().startswith(("connection", "proxy-"))]
        length = next(
            (int(h.split(":")[1]) for h in headers if h.lower().startswith("content-length")), 0
        )
        body = await reader.readexactly(length)
        up_reader, up_writer = await asyncio.open_connection(host, int(port or 80))
        head = [f"{method} /{path} {version}", *headers, "Connection: close"]
        up_writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await up_writer.drain()
        writer.write(await up_reader.read())  # the upstream closes after its one reply
        await writer.drain()
        up_writer.close()


@pytest.fixture
def no_ambient_proxy(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[ForwardProxy, str]]:
    forward = ForwardProxy()
    async with forward as url:
        yield forward, url


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
async def test_signed_requests_go_through_the_proxy_from_the_environment(
    sandbox, proxy, no_ambient_proxy, variable
):
    forward, proxy_url = proxy
    key, secret = await mint(sandbox, "proxied")
    no_ambient_proxy.setenv(variable, proxy_url)
    async with ExchangeClient(
        sandbox.base_url, key, secret, account="proxied", governor=WeightGovernor()
    ) as client:
        await client.sync_time()
        balances = await client.balance()
    assert any(b.asset == "USDT" and b.wallet > 0 for b in balances)
    assert [line.split("?")[0] for line in forward.forwarded] == [
        f"GET {sandbox.base_url}/fapi/v1/time",
        f"GET {sandbox.base_url}/fapi/v1/balance",
    ]


async def test_https_goes_through_https_proxy(proxy, no_ambient_proxy):
    """An https:// exchange is reached by a CONNECT tunnel through HTTPS_PROXY (this proxy
    refuses the tunnel, which is how the test sees it was asked)."""
    forward, proxy_url = proxy
    no_ambient_proxy.setenv("HTTPS_PROXY", proxy_url)
    async with ExchangeClient(
        "https://rocky.invalid:8443", "k", "s", account="proxied", governor=WeightGovernor(),
        max_read_attempts=1,
    ) as client:  # fmt: skip
        with pytest.raises(TransportError):
            await client.sync_time()
    assert forward.tunnels == ["rocky.invalid:8443"]


async def test_no_proxy_in_the_environment_means_a_direct_connection(
    sandbox, proxy, no_ambient_proxy
):
    forward, proxy_url = proxy
    no_ambient_proxy.setenv("HTTP_PROXY", proxy_url)
    no_ambient_proxy.setenv("NO_PROXY", "127.0.0.1")
    async with ExchangeClient(
        sandbox.base_url, "k", "s", account="direct", governor=WeightGovernor()
    ) as client:
        await client.sync_time()
    assert forward.forwarded == []
