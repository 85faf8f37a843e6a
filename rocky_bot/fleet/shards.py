"""Shards by symbol: several daemons run the same accounts (one keys file), each on its own
`ROCKY_SYMBOLS`, so that no one IP carries more request weight than it may (budget.py).

What each shard touches is per symbol and so its own: start-up cleanup, reconcile and stop
cancel and read orders symbol by symbol, countdownCancelAll (the dead-man) is armed per symbol,
leverage and positions are per symbol, and client order ids carry a per-process prefix.
What the shards share is the account itself:

- the **user data stream** carries every event of the account, the other shards' orders and
  fills included: an order update for a symbol we do not trade is none of our business (it
  must not enter our state, our /status or our stop) — `own_events` drops it;
- the **wallet**: each shard reads the same balance, so each breaker sees what every shard's
  trading costs it. Its allowance (what trading explains) must count every shard's fills, or
  the others' fees read as an unexplained loss: the dropped fills are still counted there;
- the **listenKey**: Binance hands every client of an account the same key, and a stop that
  deleted it would cut the others' streams. A shard keeps it (settings.symbol_shard, or the
  first other-symbol event seen, whichever comes first) and lets it expire.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from rocky_bot.exchange.models import OrderUpdate
from rocky_bot.ops.upkeep import AccountUpkeep

log = structlog.get_logger()


def own_events(upkeep: AccountUpkeep) -> Callable[[object], None]:
    """The user stream's handler for one account: events of our symbols go to the upkeep;
    order updates of other symbols only count their fill notional for the breaker."""
    state = upkeep.account.state

    def on_event(event: object) -> None:
        if isinstance(event, OrderUpdate) and event.symbol not in state.symbols:
            state.note_other_fill(event.last_fill_qty * event.last_fill_price)
            stream = upkeep.stream
            if stream is not None and stream.delete_key:
                stream.delete_key = False
                log.info("account_shared", other_symbol=event.symbol)
            return
        upkeep.on_stream_event(event)

    return on_event
