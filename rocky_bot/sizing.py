"""Each symbol's order size per layer, from a USD notional and the symbol's first mid.

The spec gives quantities for BTC and ETH only (`funnel.QTY_BY_LAYER`); a venue lists more. Any
symbol is sized by notional instead: quantity = notional / mid, to the nearest step, never under
what the exchange accepts at the lowest price the layer rests at (its minimum notional, its
minQty). BTC and ETH keep the spec's exact quantities unless the layer's notional is set.

Decided once per symbol, at the first mid the fleet uses for it (`SymbolSizes`), and kept for
the process's life: a size that followed the price would resize every order on every requote.
A restart re-sizes; the cap gate bounds exposure whatever the price does meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import structlog

from rocky_bot.exchange.models import SymbolRules
from rocky_bot.funnel import QTY_BY_LAYER, Layer, base_asset

log = structlog.get_logger()

#: Order size per layer in USD when the settings name none: about what the spec's BTC
#: quantities are worth at $95,000 (0.0003, 0.0005, 0.001, 0.002 and 0.0005 BTC).
DEFAULT_NOTIONAL_USD: dict[Layer, Decimal] = {
    Layer.ANCHOR: Decimal(30),
    Layer.L1: Decimal(50),
    Layer.L2: Decimal(100),
    Layer.L3: Decimal(200),
    Layer.TAKER: Decimal(50),
}
#: The lowest price an order of the funnel rests at, as a share of the mid: L3's 100 bps, with
#: room for its drift. The minimum notional must hold there too.
LOWEST_PRICE_SHARE = Decimal("0.98")


def layer_qty(
    layer: Layer, symbol: str, mid: Decimal, rules: SymbolRules, notional: Decimal | None
) -> Decimal:
    """One layer's quantity on `symbol` (`notional` None: the spec's, else the default's)."""
    if notional is None:
        spec = QTY_BY_LAYER[layer].get(base_asset(symbol))
        if spec is not None:
            return spec
        notional = DEFAULT_NOTIONAL_USD[layer]
    least = rules.least_qty(mid * LOWEST_PRICE_SHARE)
    return max(rules.nearest_qty(notional / mid), least)


def size_table(
    symbol: str, mid: Decimal, rules: SymbolRules, notionals: Mapping[Layer, Decimal | None]
) -> dict[Layer, Decimal]:
    return {layer: layer_qty(layer, symbol, mid, rules, notionals.get(layer)) for layer in Layer}


class SymbolSizes:
    """The fleet's sizes: each symbol's table, fixed at the first mid it is asked with."""

    def __init__(
        self, rules: Mapping[str, SymbolRules], notionals: Mapping[Layer, Decimal | None]
    ) -> None:
        self._rules = rules
        self._notionals = dict(notionals)
        self._tables: dict[str, dict[Layer, Decimal]] = {}

    def qty(self, layer: Layer, symbol: str, mid: Decimal) -> Decimal:
        return self.table(symbol, mid)[layer]

    def known(self, symbol: str) -> dict[Layer, Decimal] | None:
        return self._tables.get(symbol)

    def table(self, symbol: str, mid: Decimal) -> dict[Layer, Decimal]:
        table = self._tables.get(symbol)
        if table is None:
            table = self._tables[symbol] = size_table(
                symbol, mid, self._rules[symbol], self._notionals
            )
            log.info(
                "symbol_sized", symbol=symbol, mid=str(mid),
                qty={layer.value: str(q) for layer, q in table.items()},
                notional_usd={layer.value: f"{q * mid:.2f}" for layer, q in table.items()},
            )  # fmt: skip
        return table
