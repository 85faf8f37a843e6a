"""PositionRefresher's streaming flag: set by hand, or read from the stream it follows."""

from __future__ import annotations

from rocky_bot.account.positions import PositionRefresher


def test_a_followed_stream_decides_streamed_the_moment_it_drops_or_returns():
    positions = PositionRefresher(None, None)  # type: ignore[arg-type]
    assert positions.streamed is False
    positions.streamed = True
    assert positions.streamed is True
    up = [False]
    positions.follow(lambda: up[0])
    assert positions.streamed is False  # the stream's word, not the stale flag
    up[0] = True
    assert positions.streamed is True
    up[0] = False
    assert positions.streamed is False
