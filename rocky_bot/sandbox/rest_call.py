"""One REST request as endpoints see it (`Call`) and how an endpoint is declared (`Endpoint`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rocky_bot.sandbox import errors
from rocky_bot.sandbox.numbers import parse_decimal, parse_int


class Call:
    """One request's merged parameters (query wins over body) and who made it.

    Parameter names are looked up exactly first, then case-insensitively: Binance accepts
    `orderidlist` for `orderIdList` (ccxt's batch cancel sends it so), and a sandbox that
    refused what the real exchange takes would fail clients that work in production.
    """

    __slots__ = ("_folded", "account", "ip", "now_ms", "params")

    def __init__(self, params: dict[str, str], account: str | None, now_ms: int, ip: str) -> None:
        self.params = params
        self.account = account
        self.now_ms = now_ms
        self.ip = ip
        self._folded: dict[str, str] | None = None

    def merge_body(self, body: dict[str, str]) -> None:
        """Add the form body's parameters; a name in both keeps the query's value (Binance's
        rule)."""
        self.params = {**body, **self.params}
        self._folded = None

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        if value is None:
            if self._folded is None:
                self._folded = {k.lower(): v for k, v in self.params.items()}
            value = self._folded.get(name.lower())
        return value

    @property
    def who(self) -> str:
        assert self.account is not None, "endpoint declared without authentication"
        return self.account

    def opt(self, name: str) -> str | None:
        value = self.get(name)
        return value if value else None

    def req(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise errors.missing(name)
        return value

    def decimal(self, name: str, required: bool = True) -> Decimal | None:
        """Read the one strict way (numbers.py): -1100 / -1111 for what Binance refuses."""
        raw = self.req(name) if required else self.opt(name)
        return None if raw is None else parse_decimal(raw, name)

    def integer(self, name: str, default: int | None = None) -> int | None:
        raw = self.opt(name)
        return default if raw is None else parse_int(raw, name)

    def flag(self, name: str) -> bool:
        raw = self.opt(name)
        if raw is None:
            return False
        if raw.lower() not in ("true", "false"):
            raise errors.invalid_data(name)
        return raw.lower() == "true"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A handler and who may call it. What a call costs (IP weight, order counts) is not
    declared here: the gateway reads it from `rocky_bot.binance_api.weights`, the one table."""

    handler: Callable[[Call], Any]
    security: str = "NONE"  # NONE | API_KEY | SIGNED


def bounded(call: Call, name: str, default: int, top: int) -> int:
    """An integer parameter in [1, top] (-1130 outside), `default` when absent."""
    value = call.integer(name, default)
    assert value is not None
    if not 1 <= value <= top:
        raise errors.invalid_data(name)
    return value
