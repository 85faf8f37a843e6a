"""Reading one JSON value field by field: presence, type and range checked, problems named.

The REST parsers (parse.py) and the user-stream parser (user_events.py) read through `Fields`,
so every complaint has one wording (`field [2].positionAmt is missing`) that names the endpoint
and the path. Numbers are read the one strict way of `rocky_bot.numbers` (ASCII digits, bounded
exponent and precision; strings or JSON numbers, never via float formatting), and text is
bounded too (`MAX_TEXT`): a reply cannot hand the daemon a 1 MB listenKey or client id.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rocky_bot.exchange.errors import MalformedReplyError
from rocky_bot.exchange.models import OrderStatus, Side
from rocky_bot.numbers import read_decimal, read_int

MISSING: Any = object()
#: The longest text field we take: symbols, ids, enums and keys are all far shorter.
MAX_TEXT = 128


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        shown = f"{value[:24]!r}" + ("..." if len(value) > 24 else "")
        return f"the string {shown}" + (f" ({len(value)} chars)" if len(value) > 24 else "")
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else "?"


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

    def text(self, key: str, default: Any = MISSING, *, most: int = MAX_TEXT) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.fail(key, f"is {_kind(value)}, expected a string")
        if len(value) > most:
            raise self.fail(key, f"is {len(value)} characters long, expected at most {most}")
        return value

    def integer(
        self, key: str, default: Any = MISSING, *, minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:  # fmt: skip
        value = self.raw(key, default)
        number = read_int(value)
        if number is None:
            raise self.fail(key, f"is {_kind(value)}, expected an integer")
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise self.fail(key, f"is {number}, expected within [{minimum}, {maximum}]")
        return number

    def decimal(
        self, key: str, default: Any = MISSING, *, minimum: int | None = None,
        at_most: Decimal | None = None,
    ) -> Decimal:  # fmt: skip
        """A bounded finite decimal (see `rocky_bot.numbers`), >= `minimum`, <= `at_most`."""
        value = self.raw(key, default)
        number = read_decimal(value)
        if isinstance(number, str):
            raise self.fail(key, f"is {_kind(value)}, expected a finite decimal ({number})")
        if minimum is not None and number < minimum:
            raise self.fail(key, f"is {number}, expected >= {minimum}")
        if at_most is not None and number > at_most:
            raise self.fail(key, f"is {number}, expected <= {at_most}")
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
