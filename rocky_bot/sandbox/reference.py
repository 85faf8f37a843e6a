"""The reference price: the sandbox's stand-in for Binance's public bookTicker feed.

The daemon follows Binance's public feed to know where the market is; in the sandbox that feed
is the price driver's synthetic (or replayed) best bid/ask, served at `/reference/stream` and
`/reference/ws/<stream>` in Binance's bookTicker payload. It is *not* the venue's own market:
the venue's streams (`/public`, `/market`, `/ws`, `/stream`) show the book the accounts build.
Only `<symbol>@bookTicker` exists here (matched case-insensitively, as Binance does).

Fault injection acts on this feed (freeze, drop, garbage frames, price jumps), because the
daemon's feed-fault handling is what those faults exercise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rocky_bot.sandbox.stream_hub import StreamHub

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from rocky_bot.sandbox.prices import Tick


def stream_name(raw: str) -> str | None:
    """`btcusdt@bookTicker` in Binance's spelling, or None for anything else."""
    symbol, at, kind = raw.strip().partition("@")
    if not at or not symbol or "/" in raw or "@" in kind or kind.lower() != "bookticker":
        return None
    return f"{symbol.lower()}@bookTicker"


def book_ticker_payload(tick: Tick) -> str:
    """The raw bookTicker JSON, formatted by hand: it is the hot path and the shape is fixed."""
    return (
        f'{{"e":"bookTicker","u":{tick.update_id},"E":{tick.event_time_ms},'
        f'"T":{tick.event_time_ms},"s":"{tick.symbol}","b":"{tick.bid:f}","B":"{tick.bid_qty:f}",'
        f'"a":"{tick.ask:f}","A":"{tick.ask_qty:f}"}}'
    )


class ReferenceFeed:
    """Every reference websocket, fed by `publish()` from the price driver."""

    def __init__(self) -> None:
        self.hub = StreamHub(stream_name, name="reference")
        self._stream_of_symbol: dict[str, str] = {}

    @property
    def connection_count(self) -> int:
        return self.hub.connection_count

    @property
    def refuse_new(self) -> bool:
        return self.hub.refuse_new

    @refuse_new.setter
    def refuse_new(self, value: bool) -> None:
        self.hub.refuse_new = value

    def publish(self, tick: Tick) -> None:
        """Queue the tick for every subscriber of its bookTicker stream; never blocks."""
        stream = self._stream_of_symbol.get(tick.symbol)
        if stream is None:
            stream = self._stream_of_symbol[tick.symbol] = f"{tick.symbol.lower()}@bookTicker"
        if self.hub.has_subscribers(stream):
            self.hub.publish(stream, book_ticker_payload(tick))

    def publish_raw(self, symbol: str, raw: str) -> None:
        """Send `raw` verbatim as `symbol`'s bookTicker payload (fault injection: bad frames).

        Combined connections get it inside the usual wrapper, so text that is not JSON makes
        the whole frame unparseable, as a corrupted frame from a proxy would be.
        """
        self.hub.publish(f"{symbol.lower()}@bookTicker", raw)

    async def handle(
        self, websocket: WebSocket, path_streams: list[str] | None, combined: bool
    ) -> None:
        await self.hub.handle(websocket, path_streams, combined)

    async def drop_all(self) -> None:
        await self.hub.drop_all()
