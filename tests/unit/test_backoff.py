"""The one retry policy: delays growing, capped, jittered, reproducible; retriers that reset and
waits that a stop cuts short."""

from __future__ import annotations

import asyncio
import random
from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rocky_bot.backoff import (
    RECONNECT,
    REQUEST_RETRY,
    SETUP_RETRY,
    Backoff,
    jittered_backoff,
)


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


# ------------------------------------------------------------------------- the policy as a value


def test_a_policy_refuses_nonsense_when_it_is_made_not_when_first_used():
    with pytest.raises(ValueError):
        Backoff(initial_s=1.0, factor=0.5)


def test_the_named_policies_start_small_and_stay_bounded():
    for policy, first_ceiling, ceiling in (
        (REQUEST_RETRY, 0.05, 1.0),
        (RECONNECT, 0.5, 30.0),
        (SETUP_RETRY, 0.5, 30.0),
    ):
        delays = take(policy.delays(random.Random(3)), 40)
        assert first_ceiling / 2 <= delays[0] <= first_ceiling
        assert max(delays) <= ceiling and max(delays) > ceiling / 2


# ------------------------------------------------------------------------------------ Retrier


def test_two_retriers_that_failed_together_do_not_retry_together():
    """The set-up's lock-step: thirty accounts failing at once used to wait 0.5, 1, 2 s each."""
    a, b = SETUP_RETRY.retrier(), SETUP_RETRY.retrier()  # each draws its own seed
    assert [a.next_delay() for _ in range(5)] != [b.next_delay() for _ in range(5)]


def test_a_retrier_resets_after_a_success():
    retry = Backoff(initial_s=0.5, max_s=30.0).retrier(random.Random(1))
    walked = [retry.next_delay() for _ in range(10)]
    assert walked[-1] > 15.0  # near the ceiling after ten failures
    retry.reset()
    assert 0.25 <= retry.next_delay() <= 0.5


async def test_wait_sleeps_the_drawn_delay_through_the_injected_sleep():
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    retry = REQUEST_RETRY.retrier(random.Random(5), sleep)
    drawn = [await retry.wait(), await retry.wait()]
    assert slept == drawn
    assert 0.025 <= drawn[0] <= 0.05 and 0.05 <= drawn[1] <= 0.1


async def test_wait_ends_as_soon_as_stop_is_set():
    stop = asyncio.Event()
    retry = Backoff(initial_s=60.0, max_s=60.0, jitter=0.0).retrier()
    waiting = asyncio.create_task(retry.wait(stop))
    await asyncio.sleep(0)
    stop.set()
    assert await asyncio.wait_for(waiting, 2.0) == 60.0


async def test_a_cancel_landing_with_the_stop_is_not_swallowed():
    """Python 3.11's `wait_for` returns normally when its event fires in the same turn as the
    cancellation of its caller; a stop that does not stop is how daemons hang."""
    stop = asyncio.Event()
    task = asyncio.create_task(Backoff(60.0, 60.0).retrier().wait(stop))
    await asyncio.sleep(0)  # the task is waiting now
    stop.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
