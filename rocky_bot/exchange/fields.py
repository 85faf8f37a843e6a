"""Reading one JSON value field by field: presence, type and range checked, problems named.

The REST parsers (parse.py) and the user-stream parser (user_events.py) read through `Fields`,
so every complaint has one wording (`field [2].positionAmt is missing`) that names the endpoint
and the path. Decimals come as strings; JSON numbers are accepted too, never via float
formatting; NaN, Infinity and absurd exponents are refused.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rocky_bot.exchange.errors import MalformedReplyError
from rocky_bot.exchange.models import OrderStatus, Side

MISSING: Any = object()
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


class Fields:
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

    def raw(self, key: str, default: Any = MISSING) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is MISSING:
                raise self.fail(key, "is missing" if key not in self.data else "is null")
            return default
        return value

    def text(self, key: str, default: Any = MISSING) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.fail(key, f"is {_kind(value)}, expected a string")
        return value

    def integer(self, key: str, default: Any = MISSING) -> int:
        value = self.raw(key, default)
        number = _to_int(value)
        if number is None:
            raise self.fail(key, f"is {_kind(value)}, expected an integer")
        return number

    def decimal(self, key: str, default: Any = MISSING, *, minimum: int | None = None) -> Decimal:
        value = self.raw(key, default)
        number = _to_decimal(value)
        if number is None:
            raise self.fail(key, f"is {_kind(value)}, expected a finite decimal")
        if minimum is not None and number < minimum:
            raise self.fail(key, f"is {number}, expected >= {minimum}")
        return number

    def flag(self, key: str, default: Any = MISSING) -> bool:
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

    def nested(self, key: str) -> Fields:
        return Fields(self.raw(key), self.endpoint, self._path(key))

    def items(self, key: str, default: Any = MISSING) -> list[Fields]:
        return items_of(self.raw(key, default), self.endpoint, self._path(key))


def items_of(value: object, endpoint: str, where: str = "") -> list[Fields]:
    if not isinstance(value, list):
        raise MalformedReplyError(endpoint, f"{where or 'reply'} is {_kind(value)}, not a list")
    return [Fields(item, endpoint, f"{where}[{i}]") for i, item in enumerate(value)]
