"""The user data stream's events → typed models, or `MalformedReplyError` (pure).

ORDER_TRADE_UPDATE and ACCOUNT_UPDATE are what the account needs; any other event type is None
(Binance adds event types over time). Read through `Fields`, as the REST replies are, with the
same refusals: a fill past the order's quantity, a wallet below zero.
"""

from __future__ import annotations

from rocky_bot.exchange.fields import Fields
from rocky_bot.exchange.models import AccountUpdate, Balance, OrderUpdate, Position

_USER_STREAM = "user data stream"


def parse_user_event(obj: object) -> OrderUpdate | AccountUpdate | None:
    """ORDER_TRADE_UPDATE / ACCOUNT_UPDATE → model; any other event type → None.

    Accepts the raw event or the combined-stream wrapper `{"stream": ..., "data": event}`.
    """
    f = Fields(obj, _USER_STREAM)
    if "e" not in f.data and "data" in f.data:
        f = f.nested("data")
    event = f.text("e")
    if event == "ORDER_TRADE_UPDATE":
        o = f.nested("o")
        orig_qty = o.decimal("q", minimum=0)
        executed_qty = o.decimal("z", minimum=0, at_most=orig_qty)
        return OrderUpdate(
            symbol=o.text("s"),
            order_id=o.integer("i"),
            client_order_id=o.text("c"),
            side=o.side("S"),
            exec_type=o.text("x"),
            status=o.status("X"),
            price=o.decimal("p", minimum=0),
            orig_qty=orig_qty,
            executed_qty=executed_qty,
            last_fill_qty=o.decimal("l", minimum=0, at_most=executed_qty),
            last_fill_price=o.decimal("L", minimum=0),
            event_time_ms=f.integer("E"),
        )
    if event == "ACCOUNT_UPDATE":
        a = f.nested("a")
        balances = tuple(
            Balance(
                b.text("a"),
                # below zero after fees past an empty wallet (see parse._balance)
                wallet=b.decimal("wb"),
                available=b.decimal("cw"),
                change=b.decimal("bc", "0"),
            )
            for b in a.items("B", [])
        )
        positions = tuple(
            Position(symbol=p.text("s"), amount=p.decimal("pa"), entry_price=ep, mark_price=ep)
            for p in a.items("P", [])
            for ep in (p.decimal("ep", minimum=0),)
        )
        return AccountUpdate(balances, positions, event_time_ms=f.integer("E"))
    return None
