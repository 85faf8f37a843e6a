"""The graceful stop's last duty: every account's open orders cancelled, and checked.

An account is clean when the exchange's own `openOrders` shows nothing on any symbol. Its dead-man
switch is left to run out: on an empty book it cancels nothing, the next start re-arms it at
set-up anyway, and disarming cost 10 weight per account and symbol (500 for the fleet) in the
very minute a restart sets itself up (issue 14). An account that is not clean after every pass
(the exchange refused, timed out, or orders kept appearing) is reported: one `orders_left` event
lists every such account with what it left, the daemon exits non-zero, and the still-armed
countdown empties the book by itself. A stop that failed is never silent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from rocky_bot.exchange.errors import ExchangeError
from rocky_bot.ops.upkeep import AccountUpkeep

log = structlog.get_logger()

#: Cancel-and-verify passes per account before its orders are declared left behind.
PASSES = 3


@dataclass(frozen=True, slots=True)
class LeftBehind:
    """What one account may have left on the book: client ids per symbol, or why it is unknown."""

    account: str
    orders: dict[str, list[str]]
    error: str | None = None

    def as_log(self) -> dict[str, object]:
        doc: dict[str, object] = {"account": self.account, "orders": self.orders}
        if self.error:
            doc["error"] = self.error
        return doc


async def cancel_account_orders(upkeep: AccountUpkeep) -> LeftBehind | None:
    """Cancel every order of the account, verify with openOrders; None when the book is clean."""
    account = upkeep.account
    structlog.contextvars.bind_contextvars(account=account.account_id)  # its own task (gather)
    client, symbols = account.client, account.state.symbols
    left: dict[str, list[str]] = {}
    error: str | None = None
    for attempt in range(1, PASSES + 1):
        left, error = {}, None
        try:
            for symbol in symbols:
                await client.cancel_all_orders(symbol)
                remaining = await client.open_orders(symbol)
                if remaining:
                    left[symbol] = [o.client_order_id for o in remaining]
        except ExchangeError as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
            log.warning("stop_cancel_failed", error=error, attempt=attempt)
        if not left and error is None:
            break
        await asyncio.sleep(0.2 * attempt)
    if left or error is not None:
        return LeftBehind(account.account_id, left, error)
    for tracked in account.state.live_orders():
        account.state.forget(tracked.client_order_id)
    return None


def unfinished(upkeep: AccountUpkeep, why: str) -> LeftBehind:
    """An account whose stop did not finish: what we last knew of its orders."""
    known: dict[str, list[str]] = {}
    for order in upkeep.account.state.live_orders():
        known.setdefault(order.symbol, []).append(order.client_order_id)
    return LeftBehind(upkeep.account.account_id, known, why)


async def cancel_every_order(upkeeps: list[AccountUpkeep], budget_s: float) -> list[LeftBehind]:
    """Every account at once, within `budget_s`; what was left (empty: the book is clean)."""
    tasks = {asyncio.ensure_future(cancel_account_orders(u)): u for u in upkeeps}
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, budget_s))
    for task in pending:
        task.cancel()
    if pending:
        log.error("stop_timeout", timeout_s=round(budget_s, 3), accounts_unfinished=len(pending))
        await asyncio.wait(pending, timeout=0.5)
    left = [unfinished(tasks[t], f"stop timed out after {budget_s:.1f} s") for t in pending]
    for task in done:
        try:
            result = task.result()
        except Exception as exc:  # a bug must not hide what was left
            result = unfinished(tasks[task], f"{type(exc).__name__}: {exc}"[:200])
        if result is not None:
            left.append(result)
    return sorted(left, key=lambda item: item.account)


async def close_account(upkeep: AccountUpkeep) -> None:
    """The user stream first (its listenKey is deleted through the client), then the client."""
    if upkeep.stream is not None:
        await upkeep.stream.close()
    await upkeep.account.client.aclose()
