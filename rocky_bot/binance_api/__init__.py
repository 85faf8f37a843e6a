"""Binance USDⓈ-M's REST API described as data, shared by the bot, its sandbox and its bench.

This package holds only the description of the venue (what each endpoint costs, with the page of
Binance's documentation that says so): no I/O, no behaviour of ours, and it imports nothing of
`rocky_bot`. That is why the sandbox, which otherwise imports nothing of the bot, may import it
(tests/unit/test_layout.py names it as the one exception): a client, the exchange it talks to and
the bench that judges both must charge the same request the same weight, and three tables had
drifted apart (issue 14).

- `weights.py`: IP request weight and order-count cost of every endpoint the bot or the sandbox
  serves, and which calls are order actions (place, modify, cancel).
- `grids.py`: the perpetuals' price and quantity grids, with a plausible price level each: the
  sandbox lists them, the request budget plans a coarse grid's extra requotes from them.
"""
