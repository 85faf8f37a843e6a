"""Numbers in requests, read one strict way: Binance's own legal ranges for its parameters.

Why strict: Python's readers are generous. `Decimal` takes `1E+999999` (and the engine's
arithmetic then overflows: a 500), `1_0`, `" 1"`, full-width and Arabic digits, `NaN`; `int`
takes `١٢` and `1_0`; a 30-decimal value is rounded silently by the context. Binance answers
each of these with a code, and clients (ours, ccxt, the official SDK) branch on it:

- not written as `[-]digits[.digits]` in ASCII, or more than 20 integer digits → -1100 naming
  the parameter and its legal range (Binance's wording);
- more than 20 decimals → -1111 "Precision is over the maximum defined for this asset." (the
  symbol's own precision is checked later, by the grid, with the same code);
- an integer (ids, times, limits, leverage) longer than 19 digits or past 64 bits → -1100.

A leading `-` is read (Binance answers a negative price or quantity -4001/-4003, not -1100).
Whatever passes is exact: at most 20 + 20 digits, no exponent.
"""

from __future__ import annotations

import re
from decimal import Decimal

from rocky_bot.sandbox import errors

DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
INTEGER_RANGE = r"^[0-9]{1,19}$"
MAX_WHOLE_DIGITS = 20
MAX_DECIMALS = 20
INT64_MAX = 2**63 - 1
# `[0-9]`, never `\d` (which matches every script's digits); fullmatch, so no trailing "\n".
_DECIMAL_RE = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?")
_INTEGER_RE = re.compile(r"-?[0-9]{1,19}")


def parse_decimal(raw: str, name: str) -> Decimal:
    """`raw` as an exact Decimal, or the SandboxError Binance answers for it."""
    match = _DECIMAL_RE.fullmatch(raw)
    if match is None or len(match.group(1)) > MAX_WHOLE_DIGITS:
        raise errors.illegal(name, DECIMAL_RANGE)
    fraction = match.group(2)
    if fraction is not None and len(fraction) > MAX_DECIMALS:
        raise errors.rejected(errors.PRECISION)
    return Decimal(raw)


def parse_int(raw: str, name: str) -> int:
    """`raw` as a 64-bit integer, or -1100 naming the parameter."""
    if _INTEGER_RE.fullmatch(raw) is None:
        raise errors.illegal(name, INTEGER_RANGE)
    value = int(raw)
    if not -INT64_MAX <= value <= INT64_MAX:
        raise errors.illegal(name, INTEGER_RANGE)
    return value


def decimals_of(value: Decimal) -> int:
    """How many significant decimals a value carries ("1.50" → 1, "95000" → 0), exactly.

    Not `value.normalize()`: that rounds to the context's 28 digits, so a 31-digit request
    ("1.000000000000000000000000000001") would pass as "1".
    """
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "finite values only"
    text = "".join(map(str, digits)).rstrip("0")
    if not text:
        return 0
    return max(0, -(exponent + len(digits) - len(text)))


def scaled(value: Decimal, decimals: int) -> int:
    """`value` × 10**decimals as an exact integer; `value` has at most `decimals` decimals.

    Integer arithmetic, not `scaleb`, which rounds a coefficient past 28 digits.
    """
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "finite values only"
    coefficient = int("".join(map(str, digits)))
    shift = exponent + decimals
    units = coefficient * 10**shift if shift >= 0 else coefficient // 10**-shift
    return -units if sign else units
