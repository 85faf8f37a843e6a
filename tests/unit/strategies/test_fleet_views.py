"""What a loop sees of the rest of the fleet: the takers' lean (the makers' net inventory against
the anchor's cap) and the prices the other makers rest on (a ladder keeps off them)."""

from __future__ import annotations

from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from rocky_bot.exchange.models import Side
from rocky_bot.fleet.build import makers_lean, prices_taken
from rocky_bot.funnel import parse_account_id
from rocky_bot.strategies.intents import LiveQuote

MID = D(50000)


def ctx(account_id: str, position: str, cap: int = 150) -> SimpleNamespace:
    held = D(position)
    return SimpleNamespace(
        spec=parse_account_id(account_id),
        cap=D(cap),
        state=SimpleNamespace(position=lambda symbol: held if symbol == "BTCUSDT" else D(0)),
    )


FEED = SimpleNamespace(mid=lambda symbol: MID)


@pytest.mark.parametrize(
    ("positions", "lean"),
    [
        ({"mm-anchor": "0"}, 0.0),
        ({"mm-anchor": "0.0015"}, 0.5),  # $75 long of a $150 cap
        # the anchor flat, the 5 bps buyer long $75: the takers still lean to BUY
        ({"mm-anchor": "0", "mm-l1-buy-05bps": "0.0015"}, 0.5),
        # a long buyer and a short seller cancel out: nothing to lean against
        ({"mm-anchor": "0", "mm-l1-buy-05bps": "0.002", "mm-l1-sell-05bps": "-0.002"}, 0.0),
        ({"mm-anchor": "-0.003", "mm-l1-sell-06bps": "-0.003"}, -1.0),  # past the cap: bounded
        # takers' own positions are what the lean corrects, never part of it
        ({"mm-anchor": "0", "taker-1": "-0.003"}, 0.0),
    ],
)
def test_takers_lean_against_the_makers_net_inventory(positions, lean):
    contexts = [ctx(account, held) for account, held in positions.items()]
    assert makers_lean(contexts, FEED, "BTCUSDT") == pytest.approx(lean)


def test_no_lean_without_a_mid_or_an_anchor():
    contexts = [ctx("mm-anchor", "0.001"), ctx("mm-l1-buy-05bps", "0.001")]
    assert makers_lean(contexts, SimpleNamespace(mid=lambda s: None), "BTCUSDT") == 0.0
    assert makers_lean(contexts[1:], FEED, "BTCUSDT") == 0.0


def resting(account_id: str, *quotes: tuple[str, Side, str]) -> SimpleNamespace:
    live = [(sym, LiveQuote(f"{account_id}-{i}", side, D(p), D(1))) for i, (sym, side, p) in
            enumerate(quotes)]  # fmt: skip
    return SimpleNamespace(
        account_id=account_id,
        spec=parse_account_id(account_id),
        state=SimpleNamespace(
            live_quotes=lambda symbol, side: [q for s, q in live if s == symbol and q.side is side]
        ),
    )


def test_prices_taken_are_the_other_makers_on_that_symbol_and_side():
    contexts = [
        resting("mm-l1-buy-05bps", ("BTCUSDT", Side.BUY, "100.0")),  # the asking ladder itself
        resting("mm-l1-buy-06bps", ("BTCUSDT", Side.BUY, "99.9"), ("ETHUSDT", Side.BUY, "9.9")),
        resting("mm-anchor", ("BTCUSDT", Side.BUY, "100.4"), ("BTCUSDT", Side.SELL, "100.6")),
        resting("taker-1", ("BTCUSDT", Side.BUY, "99.8")),  # a taker's leftover is no level
    ]
    taken = prices_taken(contexts, "BTCUSDT", Side.BUY, "mm-l1-buy-05bps")
    assert taken == {D("99.9"), D("100.4")}
