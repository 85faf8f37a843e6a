"""The signed Binance USDⓈ-M client: one per trading account, one `httpx.AsyncClient` each.

This is the only place where HTTP replies become typed results or the error tree (errors.py):
strategies never see a status code. It also owns the exchange-facing rules that must never be
re-invented by callers: a timed-out order is looked up by its clientOrderId before it is ever
sent again; -1021 re-syncs the clock and retries once; 429/418 pause through the shared governor;
a capability the exchange lacks is learnt once and then refused locally, never retried in a loop.

The endpoints live here; the request plumbing in wire.py (over http_client.py, replies read by
replies.py), what is learnt about the exchange in capabilities.py, the placement that never
doubles an order in orders.py.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

import httpx
import structlog

from rocky_bot.exchange import parse
from rocky_bot.exchange.auth import API_KEY, ServerClock
from rocky_bot.exchange.auth import redact_key as _redact_key
from rocky_bot.exchange.capabilities import (
    IOC_UNSUPPORTED,
    UNSUPPORTED,
    Capabilities,
    ReplyProblems,
    with_capability,
)
from rocky_bot.exchange.errors import RejectedError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.http_client import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_REPLY_BYTES
from rocky_bot.exchange.models import Balance, Order, Position, Side, SymbolRules
from rocky_bot.exchange.orders import (
    modify_order_params,
    new_order_params,
    order_ref,
    place_at_most_once,
)
from rocky_bot.exchange.paths import ApiPaths
from rocky_bot.exchange.wire import RequestRecord, Wire

__all__ = ["ExchangeClient", "RequestRecord"]  # RequestRecord lives in wire.py

#: exchangeInfo lists every symbol with its filters (hundreds of them, hundreds of kilobytes, on
#: Binance): the one reply allowed past the cap on the others.
EXCHANGE_INFO_MAX_BYTES = 16 << 20

log = structlog.get_logger()
T = TypeVar("T")


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
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        rng: random.Random | None = None,
    ) -> None:
        self.account = account
        self.paths = paths
        #: Shareable: every account of a fleet talks to one exchange, so what one client learns
        #: (and logs, once) spares the others the same failed request.
        self.capabilities = capabilities or Capabilities()
        self.reply_problems = reply_problems or ReplyProblems()
        self.server_clock = ServerClock(clock)
        self._key_hint = _redact_key(api_key)
        self._log = log.bind(account=account)
        self._wire = Wire(
            base_url, api_key, secret, account=account, governor=governor,
            server_clock=self.server_clock, reply_problems=self.reply_problems,
            resync=self.sync_time, recv_window_ms=recv_window_ms, timeout_s=timeout_s,
            transport=transport, on_request=on_request, sleep=sleep,
            max_read_attempts=max_read_attempts, max_reply_bytes=max_reply_bytes,
            max_connections=max_connections, rng=rng,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"ExchangeClient(account={self.account!r}, api_key={self._key_hint!r})"

    async def __aenter__(self) -> ExchangeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._wire.aclose()

    # ------------------------------------------------------------------------------ public data

    async def sync_time(self) -> int:
        """Learn the server clock's offset (midpoint of the round trip); returns it in ms."""
        sent = self.server_clock.local_ms()
        reply = await self._wire.call("GET", self.paths.time, security=None)
        received = self.server_clock.local_ms()
        server_ms = self._wire.parse(parse.parse_server_time, reply, self.paths.time)
        offset = server_ms - (sent + received) // 2
        self.server_clock.adopt(offset)
        self._log.info("clock_synced", offset_ms=offset, rtt_ms=received - sent)
        return offset

    async def exchange_info(self) -> dict[str, SymbolRules]:
        path = self.paths.exchange_info
        reply = await self._wire.call(
            "GET", path, security=None,
            max_reply_bytes=EXCHANGE_INFO_MAX_BYTES,
        )  # fmt: skip
        return self._wire.parse(parse.parse_exchange_info, reply, path)

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
        """Place one order, at most once: never doubled, but perhaps of unknown outcome
        (`UnknownStatusError`; see `orders.place_at_most_once`)."""
        params = new_order_params(
            symbol, side, qty, price, client_order_id, time_in_force, order_type, reduce_only
        )
        path = self.paths.order

        async def send() -> Order:
            reply = await self._wire.call("POST", path, params, idempotent=False, order=True)
            return self._wire.parse(parse.parse_order, reply, path)

        async def get() -> Order | None:
            return await self.get_order(symbol, client_order_id=client_order_id)

        async def place() -> Order:
            return await place_at_most_once(
                send, get, symbol=symbol, client_order_id=client_order_id,
                retry=self._wire.retrier(), log=self._log,
            )  # fmt: skip

        if time_in_force == "IOC" and order_type == "LIMIT":
            return await self._capability("ioc", place, IOC_UNSUPPORTED, by_status=False)
        return await place()

    async def get_order(
        self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> Order | None:
        """The order, or None if the exchange does not know it (-2013)."""
        return await self._order_or_none("GET", symbol, order_id, client_order_id)

    async def cancel_order(
        self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> Order | None:
        """The cancelled order, or None if it was already gone (-2011/-2013)."""
        return await self._order_or_none("DELETE", symbol, order_id, client_order_id)

    async def _order_or_none(
        self, method: str, symbol: str, order_id: int | None, client_order_id: str | None
    ) -> Order | None:
        """One order by id; None when the exchange says it is gone (-2011/-2013)."""
        path = self.paths.order
        params = order_ref(symbol, order_id, client_order_id)
        try:
            reply = await self._wire.call(method, path, params)
        except RejectedError as exc:
            if exc.order_gone:
                return None
            raise
        return self._wire.parse(parse.parse_order, reply, path)

    async def modify_order(
        self, symbol: str, *, order_id: int, side: Side, qty: Decimal, price: Decimal
    ) -> Order:
        """PUT order; `UnsupportedError` (once learnt, without a request) → cancel/replace."""
        path = self.paths.order
        params = modify_order_params(symbol, order_id, side, qty, price)

        async def modify() -> Order:
            reply = await self._wire.call("PUT", path, params, idempotent=False, order=True)
            return self._wire.parse(parse.parse_order, reply, path)

        return await self._capability("modify", modify)

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        path = self.paths.open_orders
        params = [("symbol", symbol)] if symbol else []
        reply = await self._wire.call("GET", path, params)
        return self._wire.parse(parse.parse_open_orders, reply, path)

    async def cancel_all_orders(self, symbol: str) -> None:
        path = self.paths.all_open_orders
        await self._wire.call("DELETE", path, [("symbol", symbol)])

    # ---------------------------------------------------------------------------------- account

    async def balance(self) -> list[Balance]:
        path = self.paths.balance
        reply = await self._wire.call("GET", path)
        return self._wire.parse(parse.parse_balance, reply, path)

    async def wallet_and_positions(self) -> tuple[list[Balance], list[Position]]:
        """Wallet and positions in one call, where the exchange has it (`capabilities.account`)."""
        path = self.paths.account

        async def read() -> tuple[list[Balance], list[Position]]:
            reply = await self._wire.call("GET", path)
            return self._wire.parse(parse.parse_account, reply, path)

        return await self._capability("account", read)

    async def position_risk(self, symbol: str | None = None) -> list[Position]:
        path = self.paths.position_risk
        params = [("symbol", symbol)] if symbol else []
        reply = await self._wire.call("GET", path, params)
        return self._wire.parse(parse.parse_position_risk, reply, path)

    async def set_leverage(self, symbol: str, leverage: int) -> int:
        path = self.paths.leverage
        params = [("symbol", symbol), ("leverage", str(int(leverage)))]
        reply = await self._wire.call("POST", path, params)
        return self._wire.parse(parse.parse_leverage, reply, path)

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        """Arm (or, with 0, disarm) the exchange's dead-man switch for `symbol`."""
        path = self.paths.countdown_cancel_all
        params = [("symbol", symbol), ("countdownTime", str(int(countdown_ms)))]

        async def arm() -> None:
            await self._wire.call("POST", path, params)

        await self._capability("countdown", arm)

    async def new_listen_key(self) -> str:
        path = self.paths.listen_key

        async def create() -> str:
            reply = await self._wire.call("POST", path, security=API_KEY)
            return self._wire.parse(parse.parse_listen_key, reply, path)

        return await self._capability("user_stream", create)

    async def keepalive_listen_key(self) -> None:
        await self._listen_key_call("PUT")

    async def close_listen_key(self) -> None:
        await self._listen_key_call("DELETE")

    async def _listen_key_call(self, method: str) -> None:
        path = self.paths.listen_key

        async def call() -> None:
            await self._wire.call(method, path, security=API_KEY)

        await self._capability("user_stream", call)

    def _capability(
        self,
        name: str,
        call: Callable[[], Awaitable[T]],
        codes: frozenset[int] = UNSUPPORTED,
        *,
        by_status: bool = True,
    ) -> Awaitable[T]:
        """`call`, learning from its answer whether the exchange has capability `name`."""
        return with_capability(
            self.capabilities, name, call, codes, by_status=by_status, log=self._log
        )
