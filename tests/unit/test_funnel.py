"""The account id is the whole configuration: every funnel id must read as DESIGN.md §1 says."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rocky_bot.exchange.models import Side
from rocky_bot.funnel import (
    STANDARD_FUNNEL,
    Layer,
    Role,
    base_asset,
    funnel_ids,
    missing_roles,
    parse_account_id,
    qty_for,
)

B, S = Side.BUY, Side.SELL

# DESIGN.md §1, one row per account of the standard funnel: id → (role, layer, side, offset bps).
FUNNEL_TABLE = {
    "mm-anchor": (Role.ANCHOR, Layer.ANCHOR, None, 1),
    **{f"mm-l1-buy-{b:02d}bps": (Role.LADDER, Layer.L1, B, b) for b in range(5, 11)},
    **{f"mm-l1-sell-{b:02d}bps": (Role.LADDER, Layer.L1, S, b) for b in range(5, 11)},
    **{f"mm-l2-buy-{b}bps": (Role.LADDER, Layer.L2, B, b) for b in (15, 20, 25, 30)},
    **{f"mm-l2-sell-{b}bps": (Role.LADDER, Layer.L2, S, b) for b in (15, 20, 25, 30)},
    **{f"mm-l3-buy-{b}bps": (Role.LADDER, Layer.L3, B, b) for b in (50, 100)},
    **{f"mm-l3-sell-{b}bps": (Role.LADDER, Layer.L3, S, b) for b in (50, 100)},
    **{f"taker-{n}": (Role.TAKER, Layer.TAKER, None, 50) for n in range(1, 6)},
}

# DESIGN.md §1 quantities: layer → (BTC, ETH).
QTY_TABLE = {
    Layer.ANCHOR: ("0.0003", "0.006"),
    Layer.L1: ("0.0005", "0.01"),
    Layer.L2: ("0.001", "0.02"),
    Layer.L3: ("0.002", "0.04"),
    Layer.TAKER: ("0.0005", "0.01"),
}


def test_the_table_is_the_30_account_funnel():
    assert len(FUNNEL_TABLE) == 30
    assert set(STANDARD_FUNNEL) == set(FUNNEL_TABLE)
    assert funnel_ids() == list(STANDARD_FUNNEL)


@pytest.mark.parametrize(("account_id", "expected"), sorted(FUNNEL_TABLE.items()))
def test_every_funnel_id_reads_as_its_role_layer_side_and_offset(account_id, expected):
    role, layer, side, bps = expected
    spec = parse_account_id(account_id)
    assert (spec.account_id, spec.role, spec.layer, spec.side) == (account_id, role, layer, side)
    assert spec.offset_bps == D(bps)


@pytest.mark.parametrize(("account_id", "expected"), sorted(FUNNEL_TABLE.items()))
def test_every_funnel_id_trades_its_layer_quantity(account_id, expected):
    layer = expected[1]
    btc, eth = QTY_TABLE[layer]
    assert qty_for(parse_account_id(account_id).layer, "BTCUSDT") == D(btc)
    assert qty_for(parse_account_id(account_id).layer, "ETHUSDT") == D(eth)


@pytest.mark.parametrize(
    ("account_id", "sides"),
    [
        ("mm-anchor", (B, S)),
        ("mm-l1-buy-05bps", (B,)),
        ("mm-l3-sell-100bps", (S,)),
        ("taker-3", ()),
    ],
)
def test_quoting_sides(account_id, sides):
    assert parse_account_id(account_id).sides() == sides


@pytest.mark.parametrize(
    ("account_id", "role", "layer", "side", "bps"),
    [
        ("mm-anchor-r2", Role.ANCHOR, Layer.ANCHOR, None, 1),
        ("mm-l1-buy-05bps-r2", Role.LADDER, Layer.L1, B, 5),
        ("mm-l2-sell-30bps-r9", Role.LADDER, Layer.L2, S, 30),
        ("mm-l3-sell-100bps-r10", Role.LADDER, Layer.L3, S, 100),
        ("taker-42", Role.TAKER, Layer.TAKER, None, 50),
    ],
)
def test_replica_ids_read_like_their_original(account_id, role, layer, side, bps):
    spec = parse_account_id(account_id)
    assert (spec.role, spec.layer, spec.side, spec.offset_bps) == (role, layer, side, D(bps))
    assert spec.account_id == account_id


@pytest.mark.parametrize(
    ("account_id", "says"),
    [
        ("mm-l1-buy-11bps", "11 bps is not an L1 offset"),
        ("mm-l2-sell-10bps", "10 bps is not an L2 offset"),
        ("mm-l3-buy-75bps", "75 bps is not an L3 offset"),
        ("mm-l1-buy-005bps", "must be written 05bps"),  # one spelling per level: 05bps
        ("mm-l4-buy-50bps", "names no role"),
        ("mm-l1-hold-05bps", "names no role"),
        ("mm-l1-buy-5bps", "names no role"),
        ("taker-0", "names no role"),
        ("taker-", "names no role"),
        ("foo", "names no role"),
        ("", "names no role"),
        ("MM-ANCHOR", "names no role"),
        ("mm-anchor-r1", "names no role"),
        ("mm-anchor-r0", "names no role"),
        (" mm-anchor", "names no role"),
        ("mm-anchor\n", "names no role"),
    ],
)
def test_bad_ids_are_refused_with_a_reason(account_id, says):
    with pytest.raises(ValueError, match=says) as info:
        parse_account_id(account_id)
    assert "\n" not in str(info.value)


def test_a_role_error_says_what_ids_are_expected():
    with pytest.raises(ValueError, match=r"mm-anchor, mm-l\{1,2,3\}-\{buy,sell\}-NNbps or taker-N"):
        parse_account_id("foo")


def test_an_offset_error_lists_the_layers_offsets():
    with pytest.raises(ValueError, match="05, 06, 07, 08, 09, 10"):
        parse_account_id("mm-l1-buy-11bps")


@pytest.mark.parametrize("count", [1, 29, 30, 31, 61, 300])
def test_funnel_ids_are_unique_and_all_parse(count):
    ids = funnel_ids(count)
    assert len(ids) == count
    assert len(set(ids)) == count
    for account_id in ids:
        parse_account_id(account_id)


def test_300_accounts_are_ten_funnels():
    ids = funnel_ids(300)
    roles = [parse_account_id(i).role for i in ids]
    assert roles.count(Role.ANCHOR) == 10
    assert roles.count(Role.TAKER) == 50
    assert roles.count(Role.LADDER) == 240
    assert ids[:30] == list(STANDARD_FUNNEL)
    assert "mm-l3-sell-100bps-r10" in ids


def test_missing_roles_lists_what_a_partial_funnel_lacks_in_funnel_order():
    present = [i for i in STANDARD_FUNNEL if i not in ("taker-5", "mm-anchor", "mm-l2-buy-20bps")]
    assert missing_roles(present) == ["mm-anchor", "mm-l2-buy-20bps", "taker-5"]
    assert missing_roles(list(STANDARD_FUNNEL)) == []


@pytest.mark.parametrize(
    ("symbol", "base"),
    [("BTCUSDT", "BTC"), ("ETHUSDC", "ETH"), ("BTCUSD", "BTC"), ("USDT", "USDT")],
)
def test_base_asset(symbol, base):
    assert base_asset(symbol) == base


def test_a_symbol_without_a_quantity_is_a_clear_error():
    with pytest.raises(ValueError, match="no l1 quantity for symbol SOLUSDT"):
        qty_for(Layer.L1, "SOLUSDT")
