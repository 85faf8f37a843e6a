"""The band index wakes exactly the maker loops whose band the mid left, once, without a scan."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocky_bot.feed.bands import BandHandle, SymbolBands
from rocky_bot.feed.binance import BinanceFeed, FeedSettings

SYM = "BTCUSDT"


def watch(bands: SymbolBands, low: D, high: D, wake) -> BandHandle:
    return bands.add(BandHandle(SYM, low, high, wake))


def fire(index: SymbolBands, mid: D) -> list:
    fired = index.left(mid) or []
    for handle in fired:
        handle.wake()
    return fired


@pytest.mark.parametrize(
    ("bands", "mid", "expected"),
    [
        # name: (low, high)
        ({"a": ("99", "101")}, "100", set()),
        ({"a": ("99", "101")}, "99", set()),  # on the edge is still inside
        ({"a": ("99", "101")}, "101", set()),
        ({"a": ("99", "101")}, "98.99", {"a"}),
        ({"a": ("99", "101")}, "101.01", {"a"}),
        ({"a": ("99", "101"), "b": ("95", "105"), "c": ("99.9", "100.1")}, "100.5", {"c"}),
        ({"a": ("99", "101"), "b": ("95", "105"), "c": ("99.9", "100.1")}, "102", {"a", "c"}),
        ({"a": ("99", "101"), "b": ("95", "105"), "c": ("99.9", "100.1")}, "94", {"a", "b", "c"}),
        ({"lo": ("90", "95"), "hi": ("105", "110")}, "100", {"lo", "hi"}),  # one each way
        ({"point": ("100", "100")}, "100", set()),
        ({"point": ("100", "100")}, "100.0001", {"point"}),
    ],
)
def test_a_tick_fires_the_bands_the_mid_left(bands, mid, expected):
    index = SymbolBands()
    woken: list[str] = []
    for name, (low, high) in bands.items():
        watch(index, D(low), D(high), lambda name=name: woken.append(name))
    fire(index, D(mid))
    assert sorted(woken) == sorted(expected)
    assert len(index) == len(bands) - len(expected)


def test_a_band_fires_once_then_its_registration_is_gone():
    index = SymbolBands()
    woken: list[int] = []
    watch(index, D("99"), D("101"), lambda: woken.append(1))
    fire(index, D("102"))
    fire(index, D("103"))
    fire(index, D("98"))
    assert woken == [1]
    assert len(index) == 0


def test_unwatched_band_never_fires_and_unwatch_is_idempotent():
    index = SymbolBands()
    woken: list[str] = []
    handle = watch(index, D("99"), D("101"), lambda: woken.append("x"))
    index.remove(handle)
    index.remove(handle)
    fire(index, D("50"))
    assert woken == []
    assert len(index) == 0


def test_unwatch_after_firing_is_harmless():
    index = SymbolBands()
    handle = watch(index, D("99"), D("101"), lambda: None)
    fire(index, D("200"))
    index.remove(handle)
    assert len(index) == 0


def test_the_feed_refuses_an_inverted_band_and_an_unknown_symbol():
    feed = BinanceFeed(FeedSettings(url="ws://127.0.0.1:9/s", streams={"btcusdt@bookTicker": SYM}))
    with pytest.raises(ValueError):
        feed.watch_band(SYM, D("101"), D("99"), lambda: None)
    with pytest.raises(KeyError):
        feed.watch_band("SOLUSDT", D("1"), D("2"), lambda: None)


def test_memory_stays_bounded_by_live_bands_under_requote_churn():
    """A trending market retires bands through one heap; the other heap must not grow forever."""
    index = SymbolBands()
    handles = {}
    mid = D("100000")
    for step in range(5000):
        loop = step % 30
        if loop in handles:
            index.remove(handles[loop])
        handles[loop] = watch(index, mid - 20, mid + 20, lambda: None)
        mid -= 3  # steady downtrend: bands fire low, their highs stay buried
        for handle in index.left(mid) or []:
            handles = {k: h for k, h in handles.items() if h is not handle}
    bands = index
    assert bands.entries() <= 2 * (2 * len(bands) + 64) + 2


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("watch"), st.integers(0, 60), st.integers(0, 60)),
            st.tuples(st.just("unwatch"), st.integers(0, 200)),
            st.tuples(st.just("tick"), st.integers(-5, 65)),
        ),
        max_size=120,
    )
)
def test_index_fires_exactly_the_live_bands_the_mid_left(ops):
    """Against a naive model that scans every band: same wake-ups, each band at most once."""
    index = SymbolBands()
    model: dict[int, tuple[int, int]] = {}  # live band id -> (low, high)
    handles = []
    fired_count: dict[int, int] = {}
    for op in ops:
        if op[0] == "watch":
            low, high = sorted(op[1:])
            band_id = len(handles)
            handles.append(
                watch(
                    index,
                    D(low),
                    D(high),
                    lambda b=band_id: fired_count.__setitem__(b, fired_count.get(b, 0) + 1),
                )
            )
            model[band_id] = (low, high)
        elif op[0] == "unwatch":
            if handles:
                band_id = op[1] % len(handles)
                index.remove(handles[band_id])
                model.pop(band_id, None)
        else:
            mid = op[1]
            expected = {b for b, (low, high) in model.items() if not low <= mid <= high}
            before = dict(fired_count)
            fire(index, D(mid))
            woke = {b for b in fired_count if fired_count[b] != before.get(b, 0)}
            assert woke == expected
            for b in expected:
                del model[b]
        assert len(index) == len(model)
    assert all(n == 1 for n in fired_count.values())
