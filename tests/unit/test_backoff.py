"""The reconnect delays every websocket loop waits: growing, capped, jittered, reproducible."""

from __future__ import annotations

import random
from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rocky_bot.backoff import jittered_backoff


def take(gen, n):
    return list(islice(gen, n))


def test_without_jitter_delays_double_up_to_the_ceiling():
    delays = take(jittered_backoff(initial_s=0.5, max_s=5.0, jitter=0.0), 7)
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_a_seeded_rng_makes_the_sequence_reproducible():
    a = take(jittered_backoff(rng=random.Random(7)), 10)
    b = take(jittered_backoff(rng=random.Random(7)), 10)
    assert a == b
    assert len(set(a)) == 10  # jittered: no two waits alike


def test_a_fresh_generator_starts_again_from_the_initial_delay():
    """How callers reset after a good connection."""
    long_failing = jittered_backoff(initial_s=0.5, max_s=30.0, jitter=0.0)
    take(long_failing, 20)
    assert next(long_failing) == 30.0
    assert next(jittered_backoff(initial_s=0.5, max_s=30.0, jitter=0.0)) == 0.5


def test_jitter_spreads_two_clients_that_failed_together():
    a = take(jittered_backoff(rng=random.Random(1)), 5)
    b = take(jittered_backoff(rng=random.Random(2)), 5)
    assert a != b


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_s": -1.0},
        {"max_s": -1.0},
        {"factor": 0.5},
        {"jitter": 1.5},
        {"jitter": -0.1},
    ],
)
def test_nonsense_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        next(jittered_backoff(**kwargs))


@given(
    initial=st.floats(0.0, 10.0),
    maximum=st.floats(0.0, 120.0),
    factor=st.floats(1.0, 4.0),
    jitter=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32),
)
def test_every_delay_lies_within_its_jittered_ceiling(initial, maximum, factor, jitter, seed):
    ceiling = min(initial, maximum)
    for delay in take(
        jittered_backoff(
            initial_s=initial,
            max_s=maximum,
            factor=factor,
            jitter=jitter,
            rng=random.Random(seed),
        ),
        25,
    ):
        assert 0.0 <= delay <= maximum
        assert ceiling * (1 - jitter) - 1e-9 <= delay <= ceiling + 1e-9
        ceiling = min(ceiling * factor, maximum)
