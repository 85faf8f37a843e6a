"""The Binance bookTicker feed: frames → guarded mids → band wake-ups for the maker loops.

- `binance.py`: the feed object (one websocket for every symbol, queries, the tick handler);
- `frames.py`: one frame → a mid or the reason it cannot be used (pure);
- `guard.py`: what the feed may believe about a symbol's mid: stale, jump, shock (pure);
- `bands.py`: the drift-band index that wakes a maker when the mid leaves its band.
"""
