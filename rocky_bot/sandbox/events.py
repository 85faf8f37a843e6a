"""User data stream payloads (ORDER_TRADE_UPDATE, ACCOUNT_UPDATE) in Binance's exact field names.

Built from the engine's integers by the engine itself, so the stream and the REST answers agree
to the last digit. Only built when a listener wants the account (see `EventSink.wants`).
"""

from __future__ import annotations

from typing import Any, Protocol

from rocky_bot.sandbox.grid import Grid, fmt_money
from rocky_bot.sandbox.ledger import Holding
from rocky_bot.sandbox.orders import SIDE_NAME, Order


class EventSink(Protocol):
    """Where the engine sends user data events; the app routes them to listenKey sockets."""

    def wants(self, account: str) -> bool: ...

    def emit(self, account: str, payload: dict[str, Any]) -> None: ...


class NullSink:
    def wants(self, account: str) -> bool:
        return False

    def emit(self, account: str, payload: dict[str, Any]) -> None:  # pragma: no cover
        pass


def order_trade_update(
    order: Order,
    grid: Grid,
    holding: Holding,
    now_ms: int,
    exec_type: str,
    *,
    asset: str,
    last_steps: int = 0,
    last_ticks: int = 0,
    commission: int = 0,
    trade_id: int = 0,
    maker: bool = False,
    realized: int = 0,
) -> dict[str, Any]:
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": now_ms,
        "T": now_ms,
        "o": {
            "s": grid.symbol,
            "c": order.client_id,
            "S": SIDE_NAME[order.side],
            "o": order.type,
            "f": order.tif,
            "q": grid.fmt_qty(order.qty),
            "p": grid.fmt_price(order.price),
            "ap": grid.fmt_avg_price(order.filled_money, order.filled),
            "sp": "0",
            "x": exec_type,
            "X": order.status,
            "i": order.order_id,
            "l": grid.fmt_qty(last_steps),
            "z": grid.fmt_qty(order.filled),
            "L": grid.fmt_price(last_ticks),
            "N": asset,
            "n": fmt_money(commission),
            "T": now_ms,
            "t": trade_id,
            "b": fmt_money(holding.buy_open),
            "a": fmt_money(holding.sell_open),
            "m": maker,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": order.type,
            "ps": "BOTH",
            "cp": False,
            "rp": fmt_money(realized),
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": order.stp,
            "pm": "NONE",
            "gtd": 0,
        },
    }


def account_update(
    wallet: int,
    grid: Grid,
    holding: Holding,
    mark: int,
    now_ms: int,
    *,
    asset: str,
    reason: str = "ORDER",
) -> dict[str, Any]:
    balance = fmt_money(wallet)
    return {
        "e": "ACCOUNT_UPDATE",
        "E": now_ms,
        "T": now_ms,
        "a": {
            "m": reason,
            "B": [{"a": asset, "wb": balance, "cw": balance, "bc": "0"}],
            "P": [
                {
                    "s": grid.symbol,
                    "pa": grid.fmt_qty(holding.amt),
                    "ep": grid.fmt_avg_price(holding.cost, holding.amt),
                    "bep": grid.fmt_avg_price(holding.cost, holding.amt),
                    "cr": fmt_money(holding.realized),
                    "up": fmt_money(holding.unrealized(mark)),
                    "mt": "cross",
                    "iw": "0",
                    "ps": "BOTH",
                }
            ],
        },
    }


def balance_update(wallet: int, delta: int, now_ms: int, *, asset: str) -> dict[str, Any]:
    """ACCOUNT_UPDATE for a faucet credit (Binance's reason for a transfer in is DEPOSIT)."""
    balance = fmt_money(wallet)
    return {
        "e": "ACCOUNT_UPDATE",
        "E": now_ms,
        "T": now_ms,
        "a": {
            "m": "DEPOSIT",
            "B": [{"a": asset, "wb": balance, "cw": balance, "bc": fmt_money(delta)}],
            "P": [],
        },
    }


def account_config_update(symbol: str, leverage: int, now_ms: int) -> dict[str, Any]:
    """ACCOUNT_CONFIG_UPDATE: a symbol's leverage changed (what Binance pushes on POST leverage)."""
    return {
        "e": "ACCOUNT_CONFIG_UPDATE",
        "E": now_ms,
        "T": now_ms,
        "ac": {"s": symbol, "l": leverage},
    }
