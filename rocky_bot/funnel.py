"""The funnel as data: who quotes what, read from the account id.

An id is the whole configuration of an account (`mm-l2-sell-25bps` quotes SELL 25 bps above mid
with the L2 quantity), so the keys file carries no strategy settings that could disagree with it.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.exchange.models import Side


class Role(enum.StrEnum):
    ANCHOR = "anchor"
    LADDER = "ladder"
    TAKER = "taker"


class Layer(enum.StrEnum):
    ANCHOR = "anchor"
    L1 = "l1"
    L2 = "l2"
    L3 = "l3"
    TAKER = "taker"


#: Base-asset quantity per layer, keyed by base asset (DESIGN.md §1).
QTY_BY_LAYER: dict[Layer, dict[str, Decimal]] = {
    Layer.ANCHOR: {"BTC": Decimal("0.0003"), "ETH": Decimal("0.006")},
    Layer.L1: {"BTC": Decimal("0.0005"), "ETH": Decimal("0.01")},
    Layer.L2: {"BTC": Decimal("0.001"), "ETH": Decimal("0.02")},
    Layer.L3: {"BTC": Decimal("0.002"), "ETH": Decimal("0.04")},
    Layer.TAKER: {"BTC": Decimal("0.0005"), "ETH": Decimal("0.01")},
}

ANCHOR_OFFSET_BPS = Decimal(1)
TAKERS_PER_FUNNEL = 5
TAKER_CROSS_BPS = Decimal(50)

_LADDER_OFFSETS: dict[Layer, tuple[int, ...]] = {
    Layer.L1: (5, 6, 7, 8, 9, 10),
    Layer.L2: (15, 20, 25, 30),
    Layer.L3: (50, 100),
}
# An optional `-rN` replica suffix lets one process run the funnel N times (benchmarks, shards).
_REPLICA = r"(?:-r(?P<replica>[2-9]|[1-9]\d+))?"
_ANCHOR_ID = re.compile(rf"^mm-anchor{_REPLICA}$")
_LADDER_ID = re.compile(
    rf"^mm-l(?P<layer>[123])-(?P<side>buy|sell)-(?P<bps>\d{{2,3}})bps{_REPLICA}$"
)
_TAKER_ID = re.compile(r"^taker-(?P<n>[1-9]\d*)$")


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What one account does: its role, layer, side (None: both/random) and offset from mid."""

    account_id: str
    role: Role
    layer: Layer
    side: Side | None
    offset_bps: Decimal

    def sides(self) -> tuple[Side, ...]:
        if self.role is Role.ANCHOR:
            return (Side.BUY, Side.SELL)
        return (self.side,) if self.side else ()


def parse_account_id(account_id: str) -> AccountSpec:
    """Read an account's role from its id; raise ValueError naming what is wrong."""
    if _ANCHOR_ID.fullmatch(account_id):  # fullmatch: `$` alone lets "\n" through
        return AccountSpec(account_id, Role.ANCHOR, Layer.ANCHOR, None, ANCHOR_OFFSET_BPS)
    if _TAKER_ID.fullmatch(account_id):
        return AccountSpec(account_id, Role.TAKER, Layer.TAKER, None, TAKER_CROSS_BPS)
    if m := _LADDER_ID.fullmatch(account_id):
        layer = Layer(f"l{m['layer']}")
        bps = int(m["bps"])
        if bps not in _LADDER_OFFSETS[layer]:
            allowed = ", ".join(f"{b:02d}" for b in _LADDER_OFFSETS[layer])
            raise ValueError(f"offset {bps} bps is not an {layer.value.upper()} offset ({allowed})")
        if m["bps"] != f"{bps:02d}":  # one spelling per level, or two ids could quote one level
            raise ValueError(f"offset {m['bps']}bps must be written {bps:02d}bps")
        return AccountSpec(account_id, Role.LADDER, layer, Side(m["side"].upper()), Decimal(bps))
    raise ValueError("names no role (expected mm-anchor, mm-l{1,2,3}-{buy,sell}-NNbps or taker-N)")


def funnel_ids(count: int = 30) -> list[str]:
    """The standard funnel's 30 ids; a larger `count` repeats it with `-rN` replicas (+ takers)."""
    ids: list[str] = []
    replica = 1
    while len(ids) < count:
        suffix = "" if replica == 1 else f"-r{replica}"
        ids.append(f"mm-anchor{suffix}")
        for layer, offsets in _LADDER_OFFSETS.items():
            for side in ("buy", "sell"):
                ids += [f"mm-{layer.value}-{side}-{bps:02d}bps{suffix}" for bps in offsets]
        first = TAKERS_PER_FUNNEL * (replica - 1) + 1
        ids += [f"taker-{n}" for n in range(first, first + TAKERS_PER_FUNNEL)]
        replica += 1
    return ids[:count]


STANDARD_FUNNEL: tuple[str, ...] = tuple(funnel_ids())


def missing_roles(ids: list[str]) -> list[str]:
    """Standard funnel ids absent from `ids` (a partial funnel is allowed, but said once)."""
    present = set(ids)
    return [i for i in STANDARD_FUNNEL if i not in present]


def surplus_accounts(specs: Iterable[AccountSpec], replicas: int = 1) -> list[str]:
    """Ids beyond `replicas` copies of the standard funnel, in the order given: a second anchor,
    a ladder level quoted twice (`mm-l1-buy-05bps` and `mm-l1-buy-05bps-r2`), a sixth taker."""
    seen: Counter[tuple[Layer, Side | None, Decimal]] = Counter()
    surplus = []
    for spec in specs:
        position = (spec.layer, spec.side, spec.offset_bps)
        seen[position] += 1
        if seen[position] > replicas * (TAKERS_PER_FUNNEL if spec.role is Role.TAKER else 1):
            surplus.append(spec.account_id)
    return surplus


def base_asset(symbol: str) -> str:
    """`BTCUSDT` → `BTC` (the quantity table is keyed by base asset)."""
    for quote in ("USDT", "USDC", "BUSD", "USD"):
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)]
    return symbol


def qty_for(layer: Layer, symbol: str) -> Decimal:
    try:
        return QTY_BY_LAYER[layer][base_asset(symbol)]
    except KeyError:
        raise ValueError(f"no {layer.value} quantity for symbol {symbol}") from None
