"""Pure parsers: Binance USDⓈ-M JSON → typed models, or `MalformedReplyError`.

Every field is checked for presence and type, and every problem names the endpoint and the field
path (`[2].positionAmt`), so a proxy's HTML page or a half-implemented backend fails loudly and
legibly instead of as a KeyError three frames into a strategy. Extra fields are ignored: Binance
adds fields over time. Decimals come as strings; JSON numbers are accepted too, never via float
formatting, and NaN/Infinity are refused.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rocky_bot.exchange.errors import MalformedReplyError
from rocky_bot.exchange.models import (
    AccountUpdate,
    Balance,
    Order,
    OrderStatus,
    OrderUpdate,
    Position,
    Side,
    SymbolRules,
)

_MISSING: Any = object()
_DECIMAL_RE = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_INT_RE = re.compile(r"-?[0-9]{1,19}")
#: Decimal magnitudes beyond this are nonsense for prices and sizes, and would trap arithmetic.
_MAX_EXPONENT = 40


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value[:24]!r}"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else "?"


def _to_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > 64 or not _DECIMAL_RE.fullmatch(value):
            return None
        number = Decimal(value)
    elif isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        return None
    if not number.is_finite() or (number and abs(number.adjusted()) > _MAX_EXPONENT):
        return None
    return number


def _to_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    return None


class _Fields:
    """One JSON object being read, with the endpoint and path used in every complaint."""

    __slots__ = ("data", "endpoint", "where")

    def __init__(self, data: object, endpoint: str, where: str = "") -> None:
        if not isinstance(data, dict):
            problem = f"{where or 'reply'} is {_kind(data)}, not an object"
            raise MalformedReplyError(endpoint, problem)
        self.data, self.endpoint, self.where = data, endpoint, where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> MalformedReplyError:
        return MalformedReplyError(self.endpoint, f"field {self._path(key)} {problem}")

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise self.fail(key, "is missing" if key not in self.data else "is null")
            return default
        return value

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.fail(key, f"is {_kind(value)}, expected a string")
        return value

    def integer(self, key: str, default: Any = _MISSING) -> int:
        value = self.raw(key, default)
        number = _to_int(value)
        if number is None:
            raise self.fail(key, f"is {_kind(value)}, expected an integer")
        return number

    def decimal(self, key: str, default: Any = _MISSING, *, minimum: int | None = None) -> Decimal:
        value = self.raw(key, default)
        number = _to_decimal(value)
        if number is None:
            raise self.fail(key, f"is {_kind(value)}, expected a finite decimal")
        if minimum is not None and number < minimum:
            raise self.fail(key, f"is {number}, expected >= {minimum}")
        return number

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        value = self.raw(key, default)
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise self.fail(key, f"is {_kind(value)}, expected a boolean")

    def side(self, key: str) -> Side:
        value = self.text(key)
        if value not in Side.__members__:
            raise self.fail(key, f"is {value[:24]!r}, expected BUY or SELL")
        return Side(value)

    def status(self, key: str) -> OrderStatus:
        value = self.text(key)
        if value not in OrderStatus.__members__:
            raise self.fail(key, f"is {value[:24]!r}, not an order status")
        return OrderStatus(value)

    def nested(self, key: str) -> _Fields:
        return _Fields(self.raw(key), self.endpoint, self._path(key))

    def items(self, key: str, default: Any = _MISSING) -> list[_Fields]:
        return _items(self.raw(key, default), self.endpoint, self._path(key))


def _items(value: object, endpoint: str, where: str = "") -> list[_Fields]:
    if not isinstance(value, list):
        raise MalformedReplyError(endpoint, f"{where or 'reply'} is {_kind(value)}, not a list")
    return [_Fields(item, endpoint, f"{where}[{i}]") for i, item in enumerate(value)]


# ----------------------------------------------------------------------------------- REST replies


def _order(f: _Fields) -> Order:
    return Order(
        symbol=f.text("symbol"),
        order_id=f.integer("orderId"),
        client_order_id=f.text("clientOrderId"),
        side=f.side("side"),
        price=f.decimal("price", minimum=0),
        orig_qty=f.decimal("origQty", minimum=0),
        executed_qty=f.decimal("executedQty", minimum=0),
        status=f.status("status"),
        time_in_force=f.text("timeInForce", "GTC"),
        order_type=f.text("type", "LIMIT"),
        reduce_only=f.flag("reduceOnly", False),
        update_time_ms=f.integer("updateTime", f.data.get("time") or 0),
    )


def parse_order(obj: object, endpoint: str = "/fapi/v1/order") -> Order:
    """POST/GET/DELETE/PUT order reply (one order object)."""
    return _order(_Fields(obj, endpoint))


def parse_open_orders(obj: object, endpoint: str = "/fapi/v1/openOrders") -> list[Order]:
    return [_order(f) for f in _items(obj, endpoint)]


def parse_position_risk(obj: object, endpoint: str = "/fapi/v1/positionRisk") -> list[Position]:
    """positionRisk v1/v2/v3 (same core fields); short positions have a negative positionAmt."""
    return [
        Position(
            symbol=f.text("symbol"),
            amount=f.decimal("positionAmt"),
            entry_price=f.decimal("entryPrice", minimum=0),
            mark_price=f.decimal("markPrice", minimum=0),
        )
        for f in _items(obj, endpoint)
    ]


def _balance(f: _Fields) -> Balance:
    wallet_key = "balance" if "balance" in f.data else "walletBalance"
    available_key = next(
        (k for k in ("availableBalance", "withdrawAvailable", "maxWithdrawAmount") if k in f.data),
        "availableBalance",
    )
    return Balance(
        asset=f.text("asset"), wallet=f.decimal(wallet_key), available=f.decimal(available_key)
    )


def parse_balance(obj: object, endpoint: str = "/fapi/v1/balance") -> list[Balance]:
    """balance v1 (`withdrawAvailable`), v2/v3 (`availableBalance`), or account's `assets`."""
    if isinstance(obj, dict):
        return [_balance(f) for f in _Fields(obj, endpoint).items("assets")]
    return [_balance(f) for f in _items(obj, endpoint)]


def _symbol_rules(f: _Fields) -> SymbolRules:
    symbol = f.text("symbol")
    filters: dict[str, _Fields] = {}
    for filt in f.items("filters"):
        filters.setdefault(filt.text("filterType"), filt)
    for required in ("PRICE_FILTER", "LOT_SIZE"):
        if required not in filters:
            raise f.fail("filters", f"has no {required}")
    price, lot = filters["PRICE_FILTER"], filters["LOT_SIZE"]
    min_notional = Decimal(0)
    notional = filters.get("MIN_NOTIONAL") or filters.get("NOTIONAL")
    if notional is not None:
        key = "notional" if "notional" in notional.data else "minNotional"
        min_notional = notional.decimal(key, minimum=0)
    tick, step = price.decimal("tickSize"), lot.decimal("stepSize")
    if tick <= 0 or step <= 0:
        raise f.fail("filters", f"has tickSize {tick} / stepSize {step}, expected > 0")
    margin_asset = f.text("marginAsset", None) if f.data.get("marginAsset") else None
    quote = f.text("quoteAsset", None) if f.data.get("quoteAsset") else None
    return SymbolRules(
        symbol, tick, step, lot.decimal("minQty", minimum=0), min_notional,
        margin_asset or quote or "USDT",
    )  # fmt: skip


def parse_exchange_info(
    obj: object, endpoint: str = "/fapi/v1/exchangeInfo"
) -> dict[str, SymbolRules]:
    """Tick, step, min qty and min notional of every listed symbol, keyed by symbol."""
    rules = [_symbol_rules(f) for f in _Fields(obj, endpoint).items("symbols")]
    return {r.symbol: r for r in rules}


def parse_server_time(obj: object, endpoint: str = "/fapi/v1/time") -> int:
    return _Fields(obj, endpoint).integer("serverTime")


def parse_listen_key(obj: object, endpoint: str = "/fapi/v1/listenKey") -> str:
    key = _Fields(obj, endpoint).text("listenKey")
    if not key:
        raise MalformedReplyError(endpoint, "field listenKey is empty")
    return key


def parse_leverage(obj: object, endpoint: str = "/fapi/v1/leverage") -> int:
    return _Fields(obj, endpoint).integer("leverage")


# -------------------------------------------------------------------------------- user data stream

_USER_STREAM = "user data stream"


def parse_user_event(obj: object) -> OrderUpdate | AccountUpdate | None:
    """ORDER_TRADE_UPDATE / ACCOUNT_UPDATE → model; any other event type → None.

    Accepts the raw event or the combined-stream wrapper `{"stream": ..., "data": event}`.
    """
    f = _Fields(obj, _USER_STREAM)
    if "e" not in f.data and "data" in f.data:
        f = f.nested("data")
    event = f.text("e")
    if event == "ORDER_TRADE_UPDATE":
        o = f.nested("o")
        return OrderUpdate(
            symbol=o.text("s"),
            order_id=o.integer("i"),
            client_order_id=o.text("c"),
            side=o.side("S"),
            exec_type=o.text("x"),
            status=o.status("X"),
            price=o.decimal("p", minimum=0),
            orig_qty=o.decimal("q", minimum=0),
            executed_qty=o.decimal("z", minimum=0),
            last_fill_qty=o.decimal("l", minimum=0),
            last_fill_price=o.decimal("L", minimum=0),
            event_time_ms=f.integer("E"),
        )
    if event == "ACCOUNT_UPDATE":
        a = f.nested("a")
        balances = tuple(
            Balance(b.text("a"), b.decimal("wb"), b.decimal("cw"), b.decimal("bc", "0"))
            for b in a.items("B", [])
        )
        positions = tuple(
            Position(symbol=p.text("s"), amount=p.decimal("pa"), entry_price=ep, mark_price=ep)
            for p in a.items("P", [])
            for ep in (p.decimal("ep", minimum=0),)
        )
        return AccountUpdate(balances, positions, event_time_ms=f.integer("E"))
    return None
