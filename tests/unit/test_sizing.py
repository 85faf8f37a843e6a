"""Sizes per symbol: the spec's for BTC and ETH, notional over the first mid for the rest."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rocky_bot.exchange.models import SymbolRules
from rocky_bot.funnel import QTY_BY_LAYER, Layer
from rocky_bot.sizing import SymbolSizes, layer_qty, size_table

BTC = SymbolRules("BTCUSDT", D("0.1"), D("0.0001"), D("0.0001"), D(5))
ETH = SymbolRules("ETHUSDT", D("0.01"), D("0.001"), D("0.001"), D(5))
SOL = SymbolRules("SOLUSDT", D("0.01"), D("0.01"), D("0.01"), D(5))
DOGE = SymbolRules("DOGEUSDT", D("0.00001"), D(1), D(1), D(5))
UNSET = dict.fromkeys(Layer)


@pytest.mark.parametrize(("symbol", "rules"), [("BTCUSDT", BTC), ("ETHUSDT", ETH)])
def test_btc_and_eth_keep_the_specs_exact_quantities_whatever_the_price(symbol, rules):
    for mid in (D(1000), D(95000)):
        assert size_table(symbol, mid, rules, UNSET) == {
            layer: QTY_BY_LAYER[layer][symbol[:3]] for layer in Layer
        }


@pytest.mark.parametrize(
    ("layer", "expected"),
    [(Layer.ANCHOR, "0.17"), (Layer.L1, "0.28"), (Layer.L2, "0.56"), (Layer.L3, "1.11"),
     (Layer.TAKER, "0.28")],
)  # fmt: skip
def test_another_symbol_is_sized_by_the_default_notional_at_its_mid(layer, expected):
    # $30 / $50 / $100 / $200 / $50 at $180, to the nearest 0.01 SOL
    assert layer_qty(layer, "SOLUSDT", D(180), SOL, None) == D(expected)


def test_a_notional_set_explicitly_sizes_btc_too():
    assert layer_qty(Layer.L1, "BTCUSDT", D(95000), BTC, D(60)) == D("0.0006")  # 60/95k ≈ 0.00063
    assert layer_qty(Layer.L2, "BTCUSDT", D(95000), BTC, None) == D("0.001")  # others: the spec's


def test_never_under_the_minimum_notional_at_the_lowest_price_the_funnel_rests():
    # $5 at $0.25 is 20 DOGE; the order may rest 2 % under the mid: 21 DOGE
    assert layer_qty(Layer.ANCHOR, "DOGEUSDT", D("0.25"), DOGE, D(1)) == D(21)
    assert layer_qty(Layer.ANCHOR, "DOGEUSDT", D("0.25"), DOGE, D(30)) == D(120)


def test_never_under_min_qty():
    coarse = SymbolRules("AVAXUSDT", D("0.001"), D(1), D(1), D(5))
    assert layer_qty(Layer.ANCHOR, "AVAXUSDT", D(3000), coarse, D(30)) == D(1)


def test_a_symbols_sizes_are_fixed_at_its_first_mid():
    sizes = SymbolSizes({"SOLUSDT": SOL}, UNSET)
    assert sizes.known("SOLUSDT") is None
    first = sizes.qty(Layer.L1, "SOLUSDT", D(180))
    assert sizes.qty(Layer.L1, "SOLUSDT", D(90)) == first == D("0.28")  # a requote never resizes
    assert sizes.known("SOLUSDT")[Layer.L3] == D("1.11")
