"""Order requests: their parameters as Binance wants them, and placement that never doubles one.

A timed-out order is looked up by its clientOrderId before it is ever sent again; this module
holds that rule so no caller re-invents it (the client's `place_order` is its only user).

At most once, not exactly once: an order is never placed twice, but when neither the reply nor
the look-ups tell, the outcome stays unknown (`UnknownStatusError`) and the caller must treat
the order as possibly live until its reconcile says otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from rocky_bot.backoff import Retrier
from rocky_bot.exchange.errors import (
    ExchangeError,
    MalformedReplyError,
    RejectedError,
    UnknownStatusError,
)
from rocky_bot.exchange.models import Order, Side

#: -4116: "ClientOrderId is duplicated": our earlier send did land after all.
DUPLICATE_CLIENT_ORDER_ID = -4116


def plain_decimal(value: Decimal, name: str) -> str:
    """A positive Decimal as Binance wants it: plain digits, never float, never an exponent."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a positive finite Decimal, got {value!r}")
    return format(value, "f")


def new_order_params(
    symbol: str, side: Side, qty: Decimal, price: Decimal | None, client_order_id: str,
    time_in_force: str, order_type: str, reduce_only: bool,
) -> list[tuple[str, str]]:  # fmt: skip
    """POST /fapi/v1/order's parameters; a LIMIT order needs a price and a timeInForce."""
    params = [("symbol", symbol), ("side", str(side)), ("type", order_type)]
    params.append(("quantity", plain_decimal(qty, "qty")))
    if order_type == "LIMIT":
        if price is None:
            raise ValueError("a LIMIT order needs a price")
        params += [("price", plain_decimal(price, "price")), ("timeInForce", time_in_force)]
    params.append(("newClientOrderId", client_order_id))
    if reduce_only:
        params.append(("reduceOnly", "true"))
    return params


def modify_order_params(
    symbol: str, order_id: int, side: Side, qty: Decimal, price: Decimal
) -> list[tuple[str, str]]:
    """PUT /fapi/v1/order's parameters."""
    return [
        ("symbol", symbol),
        ("orderId", str(order_id)),
        ("side", str(side)),
        ("quantity", plain_decimal(qty, "qty")),
        ("price", plain_decimal(price, "price")),
    ]


def order_ref(
    symbol: str, order_id: int | None, client_order_id: str | None
) -> list[tuple[str, str]]:
    if order_id is not None:
        return [("symbol", symbol), ("orderId", str(order_id))]
    if client_order_id:
        return [("symbol", symbol), ("origClientOrderId", client_order_id)]
    raise ValueError("order_id or client_order_id is required")


async def place_at_most_once(
    send: Callable[[], Awaitable[Order]],
    get: Callable[[], Awaitable[Order | None]],
    *,
    symbol: str,
    client_order_id: str,
    retry: Retrier,
    log: Any,
) -> Order:
    """`send` (the POST); if the outcome is unknown, `get` the order by its id, re-send once
    only if it is not there, and look once more.

    The re-send reuses the clientOrderId, so should the first send surface late the exchange
    refuses the copy (-4116) instead of opening a second order. If the order is still not
    found, `UnknownStatusError`: it may yet exist, and the caller must count it as live.
    Each look-up waits a jittered `retry` delay first, giving a late send time to land.
    """
    ctx = {"symbol": symbol, "client_order_id": client_order_id}

    async def look_up() -> Order | None:
        await retry.wait()
        try:
            return await get()
        except ExchangeError as exc:
            raise UnknownStatusError(
                0, f"order {client_order_id} status unknown; lookup failed: {exc}", 0
            ) from exc

    try:
        return await send()
    except (UnknownStatusError, MalformedReplyError) as exc:
        log.warning("order_status_unknown", **ctx, reason=str(exc))
    if (found := await look_up()) is not None:
        log.info("order_status_recovered", **ctx, order_id=found.order_id)
        return found
    log.info("order_resent", **ctx)
    try:
        return await send()
    except (UnknownStatusError, MalformedReplyError):
        pass
    except RejectedError as exc:
        if exc.code != DUPLICATE_CLIENT_ORDER_ID:
            raise
    if (found := await look_up()) is not None:
        log.info("order_status_recovered", **ctx, order_id=found.order_id)
        return found
    raise UnknownStatusError(0, f"order {client_order_id} unknown after lookup and resend", 0)
