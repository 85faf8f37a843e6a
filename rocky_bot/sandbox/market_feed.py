"""The venue's own market streams: what its order book and trades look like, as Binance sends it.

Everything here is read from the engine (books, tapes, marks), never from the reference price,
so a client sees one market per symbol: the `bookTicker` it streams is the book it trades on.
Served at `/public/...`, `/market/...` and the classic `/ws/...` and `/stream` (every stream on
every path: Binance routes kinds to `/public` or `/market`, and clients that follow the routing
find them where they look).

Two clocks drive it:
- the engine calls `touched(symbol)` after every change to a book; the changes of one event-loop
  turn are coalesced (`call_soon`) into at most one `bookTicker` per symbol (only when the top
  moved) and the new `aggTrade`s, so those streams are real time;
- a 50 ms ticker (`run`) publishes the periodic streams when due (market_names lists the
  periods) and samples each mark once a second into the mark-price candles and funding history.

Only streams someone subscribed to are built. Diff depth keeps, per stream, the levels it last
published and sends what changed (`U`/`u`/`pu` from the book's update id, so a client can sync
with GET /depth's `lastUpdateId` exactly as on Binance); partial depth and klines are re-sent
every period.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rocky_bot.sandbox import market_names
from rocky_bot.sandbox import market_render as render
from rocky_bot.sandbox.klines import open_of
from rocky_bot.sandbox.market_names import TICK_MS, Stream
from rocky_bot.sandbox.orders import BUY, SELL
from rocky_bot.sandbox.stats import rolling_day
from rocky_bot.sandbox.stream_hub import StreamHub
from rocky_bot.sandbox.tape import FundingMark

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from rocky_bot.sandbox.engine import Engine

FUNDING_PERIOD_MS = 8 * 3600 * 1000
MARK_SAMPLE_TICKS = 1000 // TICK_MS
Snapshot = dict[int, int]  # price ticks → qty steps


def next_funding(now_ms: int) -> int:
    return now_ms - now_ms % FUNDING_PERIOD_MS + FUNDING_PERIOD_MS


def level_changes(old: Snapshot, new: Snapshot) -> list[tuple[int, int]]:
    """Levels whose quantity changed between two snapshots; a removed level has quantity 0."""
    changed = [(p, q) for p, q in new.items() if old.get(p) != q]
    changed += [(p, 0) for p in old if p not in new]
    return changed


def _dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"))


class MarketFeed:
    def __init__(self, engine: Engine, clock_ms: Callable[[], int]) -> None:
        self.engine = engine
        self.clock_ms = clock_ms
        self.symbols = tuple(engine.grids)
        self.hub = StreamHub(self._canonical, name="market", on_first=self._first_subscriber)
        self._streams: dict[str, Stream] = {}
        self._dirty: dict[str, None] = {}
        self._scheduled = False
        self._tops: dict[str, tuple[int, int, int, int]] = {}
        self._last_agg = {s: engine.tapes[s].last_agg_id for s in self.symbols}
        self._depth: dict[str, tuple[int, Snapshot, Snapshot]] = {}
        self._partial_u: dict[str, int] = {}
        self._kline_open: dict[str, int] = {}
        self._last_sample_ms = 0
        engine.on_change = self.touched

    def _canonical(self, raw: str) -> str | None:
        parsed = market_names.parse(raw, self.symbols)
        if parsed is None:
            return None
        name, stream = parsed
        self._streams[name] = stream
        return name

    def _first_subscriber(self, name: str) -> None:
        """A diff-depth stream's baseline is the book when someone starts listening."""
        stream = self._streams.get(name)
        if stream is not None and stream.kind == "depth" and stream.symbol is not None:
            book = self.engine.books[stream.symbol]
            bids, asks = self._levels(stream.symbol, BUY), self._levels(stream.symbol, SELL)
            self._depth[name] = (book.update_id, bids, asks)

    async def handle(
        self, websocket: WebSocket, path_streams: list[str] | None, combined: bool
    ) -> None:
        await self.hub.handle(websocket, path_streams, combined)

    # -- real time: the engine tells us a book changed -------------------------------------
    def touched(self, symbol: str) -> None:
        self._dirty[symbol] = None
        if self._scheduled:
            return
        try:
            asyncio.get_running_loop().call_soon(self._flush)
        except RuntimeError:  # no loop (a synchronous caller): the ticker flushes it
            return
        self._scheduled = True

    def _flush(self) -> None:
        self._scheduled = False
        now = self.clock_ms()
        for symbol in self._dirty:
            self._publish_top(symbol, now)
            self._publish_aggs(symbol, now)
        self._dirty.clear()

    def _publish_top(self, symbol: str, now: int) -> None:
        book = self.engine.books[symbol]
        bid, ask = book.best(BUY), book.best(SELL)
        top = (bid.price if bid else 0, bid.qty if bid else 0,
               ask.price if ask else 0, ask.qty if ask else 0)  # fmt: skip
        if self._tops.get(symbol) == top:
            return
        self._tops[symbol] = top
        name = f"{symbol.lower()}@bookTicker"
        one, every = self.hub.has_subscribers(name), self.hub.has_subscribers("!bookTicker")
        if one or every:
            grid = self.engine.grids[symbol]
            raw = render.book_ticker_event(symbol, grid, top, book.update_id, now)
            self.hub.publish(name, raw)
            self.hub.publish("!bookTicker", raw)

    def _publish_aggs(self, symbol: str, now: int) -> None:
        tape = self.engine.tapes[symbol]
        if tape.last_agg_id == self._last_agg[symbol]:
            return
        name = f"{symbol.lower()}@aggTrade"
        if self.hub.has_subscribers(name):
            grid = self.engine.grids[symbol]
            for agg in tape.aggs_after(self._last_agg[symbol]):
                self.hub.publish(name, _dumps(render.agg_trade_event(symbol, grid, agg, now)))
        self._last_agg[symbol] = tape.last_agg_id

    # -- periodic ------------------------------------------------------------------------
    async def run(self) -> None:
        """Publish periodic streams every TICK_MS until cancelled (absolute deadlines)."""
        period = TICK_MS / 1000
        started = time.monotonic()
        tick = 0
        while True:
            tick += 1
            await asyncio.sleep(max(0.0, started + tick * period - time.monotonic()))
            self.on_tick(tick, self.clock_ms())

    def on_tick(self, tick: int, now: int) -> None:
        if tick % MARK_SAMPLE_TICKS == 0:
            self.sample_marks(now)
        if self._dirty:
            self._flush()
        for name in list(self.hub.wanted()):
            stream = self._streams.get(name)
            if stream is None or not stream.due(tick):
                continue
            symbols = self.symbols if stream.symbol is None else (stream.symbol,)
            if stream.kind == "depth":
                self._diff_depth(name, symbols[0], now)
            elif stream.kind == "partial":
                self._partial(name, symbols[0], stream.levels, now)
            elif stream.kind == "kline":
                self._kline(name, symbols[0], stream.interval, now)
            else:
                self._summary(name, stream, symbols, now)

    def sample_marks(self, now: int) -> None:
        """Each symbol's mark into its mark candles; at each funding instant, into its history."""
        crossed = next_funding(self._last_sample_ms) <= now if self._last_sample_ms else False
        for symbol in self.symbols:
            tape, mark = self.engine.tapes[symbol], render.mark_units(self.engine.mark(symbol))
            tape.record_mark(now, mark)
            if crossed:
                tape.fundings.append(FundingMark(next_funding(self._last_sample_ms), mark))
        self._last_sample_ms = now

    def _levels(self, symbol: str, side: int, limit: int | None = None) -> Snapshot:
        return {lv.price: lv.qty for lv in self.engine.books[symbol].levels(side, limit)}

    def _rows(self, symbol: str, levels: list[tuple[int, int]]) -> list[list[str]]:
        g = self.engine.grids[symbol]
        return [[g.fmt_price(p), g.fmt_qty(q)] for p, q in levels]

    def _diff_depth(self, name: str, symbol: str, now: int) -> None:
        u = self.engine.books[symbol].update_id
        state = self._depth.get(name)
        if state is not None and state[0] == u:
            return
        bids, asks = self._levels(symbol, BUY), self._levels(symbol, SELL)
        self._depth[name] = (u, bids, asks)
        if state is None:  # no baseline yet: events follow from the next change on
            return
        last_u, old_bids, old_asks = state
        b = sorted(level_changes(old_bids, bids), reverse=True)
        a = sorted(level_changes(old_asks, asks))
        ids = (last_u + 1, u, last_u)
        event = render.depth_event(symbol, ids, self._rows(symbol, b), self._rows(symbol, a), now)
        self.hub.publish(name, _dumps(event))

    def _partial(self, name: str, symbol: str, levels: int, now: int) -> None:
        u = self.engine.books[symbol].update_id
        pu = self._partial_u.get(name, u)
        self._partial_u[name] = u
        bids = list(self._levels(symbol, BUY, levels).items())
        asks = list(self._levels(symbol, SELL, levels).items())
        ids = (min(pu + 1, u), u, pu)
        rows = self._rows(symbol, bids), self._rows(symbol, asks)
        self.hub.publish(name, _dumps(render.depth_event(symbol, ids, *rows, now)))

    def _kline(self, name: str, symbol: str, interval: str, now: int) -> None:
        series = self.engine.tapes[symbol].candles[interval]
        if series.empty:
            return
        grid = self.engine.grids[symbol]
        current = open_of(interval, now)
        previous = self._kline_open.get(name)
        self._kline_open[name] = current
        if previous is not None and previous != current:
            closed = series.at(previous)
            if closed is not None:
                event = render.kline_event(symbol, grid, interval, closed, True, now)
                self.hub.publish(name, _dumps(event))
        candle = series.at(current)
        if candle is not None:
            event = render.kline_event(symbol, grid, interval, candle, False, now)
            self.hub.publish(name, _dumps(event))

    def _summary(self, name: str, stream: Stream, symbols: tuple[str, ...], now: int) -> None:
        """markPrice, ticker, miniTicker: one symbol's object, or an array for `!...@arr`."""
        events = []
        for symbol in symbols:
            tape, grid = self.engine.tapes[symbol], self.engine.grids[symbol]
            if stream.kind == "markPrice":
                mark = render.mark_units(self.engine.mark(symbol))
                events.append(render.mark_price_event(symbol, mark, next_funding(now), now))
                continue
            if not tape.trades:
                continue
            stats = rolling_day(tape.candles["1m"], tape.trades[-1], now)
            build = render.ticker_event if stream.kind == "ticker" else render.mini_ticker_event
            events.append(build(symbol, grid, stats, now))
        if not events:
            return
        self.hub.publish(name, _dumps(events if stream.symbol is None else events[0]))
