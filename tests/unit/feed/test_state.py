"""FeedState.handle_message under hostile frames: it never raises, never takes an implausible mid.

The feed is the only source of the mid every loop quotes around; the handler runs inside the
feed task, so a frame that raised would end the task (the supervisor restarts it, but the
contract is "never raises"). Driven by calling `handle_message` directly: no socket needed.
"""

from __future__ import annotations

import json
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rocky_bot.feed.guard import GuardLimits
from rocky_bot.feed.state import FeedState

BTC, ETH = "BTCUSDT", "ETHUSDT"
STREAMS = {"btcusdt@bookTicker": BTC, "ethusdt@bookTicker": ETH}
LIMITS = GuardLimits.from_pcts(
    stale_after_s=5.0, max_jump_pct=5.0, shock_pct=2.0, shock_window_s=10.0, shock_pause_s=30.0
)
#: Binance's BTCUSDT PRICE_FILTER (and a made-up one for ETH).
BOUNDS = {BTC: (D("261.10"), D("4529764")), ETH: (D("39.86"), None)}


def feed(bounds: dict | None = BOUNDS) -> FeedState:
    state = FeedState(STREAMS, LIMITS, clock=lambda: 100.0)
    if bounds is not None:
        state.bound_prices(bounds)
    return state


def tick(symbol: str, bid: str, ask: str | None = None) -> str:
    data = {"e": "bookTicker", "s": symbol, "b": bid, "a": ask or bid}
    return json.dumps({"stream": f"{symbol.lower()}@bookTicker", "data": data})


def test_a_first_tick_outside_the_price_filter_is_not_the_mid():
    state = feed()
    state.rebase()  # a fresh connection: the jump rule has nothing to compare with
    state.handle_message(tick(BTC, "10000000000000000000"))  # 1e19, written plainly
    state.handle_message(tick(BTC, "1e30"))
    state.handle_message(tick(BTC, "0.5"))
    assert state.mid(BTC) is None
    assert state.stats.bad_messages == {"implausible": 3}
    state.handle_message(tick(BTC, "95000"))
    assert state.mid(BTC) == D("95000")
    state.rebase()  # and after a reconnect, the same
    state.handle_message(tick(BTC, "4529764.1"))
    assert state.mid(BTC) == D("95000")
    state.handle_message(tick(ETH, "10000000000000"))  # no maximum for ETH: accepted
    assert state.mid(ETH) == D("10000000000000")


def test_a_mid_taken_before_exchange_info_was_read_is_forgotten_if_implausible():
    state = feed(bounds=None)
    told: list[str] = []
    state.on_state_change(told.append)
    state.handle_message(tick(BTC, "1e30"))
    state.handle_message(tick(ETH, "3500"))
    assert state.mid(BTC) == D("1e30") and state.is_live(BTC)
    told.clear()
    state.bound_prices(BOUNDS)
    assert state.mid(BTC) is None and not state.is_live(BTC)
    assert told == [BTC]
    assert state.mid(ETH) == D("3500")  # plausible: kept
    state.handle_message(tick(BTC, "95000"))  # the next plausible tick is the new base
    assert state.mid(BTC) == D("95000") and state.is_live(BTC)


_NUMBERS = st.sampled_from(
    ["95000", "95000.1", "9e999999", "1e-9999999999", "1e100", "0e999", "NaN", "-1", "0",
     "1_0", " 95000", "９５０００", "95000\n", "1." + "1" * 300, "4529764.1", "261.1", "1e5"]
) | st.text(alphabet="0123456789.eE-+", max_size=10)  # fmt: skip
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _NUMBERS,
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(st.sampled_from(["stream", "data", "e", "s", "b", "a"]), kids, max_size=4)
    ),
    max_leaves=10,
)
_FRAMES = st.one_of(
    st.builds(tick, st.sampled_from([BTC, ETH]), _NUMBERS, _NUMBERS),
    st.builds(
        lambda b, a, s: json.dumps({"e": "bookTicker", "s": s, "b": b, "a": a}),
        _NUMBERS, _NUMBERS, st.sampled_from([BTC, "X"]),
    ),
    _JSON.map(json.dumps),
    st.integers(1, 3).map(lambda k: "[" * (20_000 * k) + "]" * (20_000 * k)),
    st.binary(max_size=30),
    st.text(max_size=30),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(_FRAMES, max_size=6), rebase_first=st.booleans())
def test_no_frame_makes_the_handler_raise_or_take_an_implausible_mid(frames, rebase_first):
    state = feed()
    if rebase_first:
        state.rebase()
    for frame in frames:
        state.handle_message(frame)
    stats = state.stats
    assert stats.messages == len(frames)
    # every frame was accepted, dropped as a jump, ignored (not ours) or counted as bad
    bad = sum(stats.bad_messages.values())
    assert stats.accepted + stats.dropped_jumps + stats.ignored + bad == len(frames)
    for symbol, (low, high) in BOUNDS.items():
        mid = state.mid(symbol)
        assert mid is None or (mid.is_finite() and low <= mid and (high is None or mid <= high))
