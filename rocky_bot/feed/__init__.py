"""The Binance bookTicker feed: frames → guarded mids → band wake-ups for the maker loops.

- `binance.py`: the feed object: its websocket (kept open by `rocky_bot.reconnect`) and the
  watchdog that turns silence into state;
- `state.py`: what the feed knows, tick by tick: the tick handler, queries, listeners;
- `frames.py`: one frame → a mid or the reason it cannot be used (pure);
- `guard.py`: what the feed may believe about a symbol's mid: stale, jump, shock (pure);
- `bands.py`: the drift-band index that wakes a maker when the mid leaves its band.
"""
