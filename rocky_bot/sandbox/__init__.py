"""The sandbox exchange: a local Binance USDⓈ-M look-alike (engine, REST, websockets, prices).

A neighbour of the bot, not a floor of it: nothing here imports `rocky_bot` outside this package,
so it could be lifted out as its own distribution. Entry points:

    from rocky_bot.sandbox import SandboxConfig, SandboxExchange

(`SandboxExchange` is loaded lazily so that importing the pure engine does not pull in
uvicorn/starlette.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rocky_bot.sandbox.config import SandboxConfig, SymbolSpec

if TYPE_CHECKING:
    from rocky_bot.sandbox.app import SandboxExchange

__all__ = ["SandboxConfig", "SandboxExchange", "SymbolSpec"]


def __getattr__(name: str) -> Any:
    if name == "SandboxExchange":
        from rocky_bot.sandbox.app import SandboxExchange

        return SandboxExchange
    raise AttributeError(name)
