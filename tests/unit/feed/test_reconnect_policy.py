"""The fleet's feed knocks at least every few seconds while its host is down.

Invariant 4 of issue 5: quoting resumes within 5 s of the feed's return. With the feed's default
30 s backoff ceiling, an outage of half a minute left the daemon blind for up to 30 s more after
the market was back; the fleet caps the reconnect backoff well under 5 s.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from rocky_bot.backoff import jittered_backoff
from rocky_bot.fleet import Fleet
from rocky_bot.keys import KeysFile
from rocky_bot.settings import Settings


def test_after_any_outage_the_next_reconnect_is_at_most_three_seconds_away():
    settings = Settings(_env_file=None, feed_url="ws://127.0.0.1:9/stream")
    fleet = Fleet(settings, KeysFile(Path("keys.json"), "http://127.0.0.1:9", ()))
    feed = fleet.feed.settings
    delays = jittered_backoff(initial_s=feed.backoff_initial_s, max_s=feed.backoff_max_s)
    assert max(itertools.islice(delays, 50)) <= 3.0
