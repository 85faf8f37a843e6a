"""The fleet: every account's loops and duties around one feed, built, supervised and stopped.

- `build.py`: one account's parts (client, state, breaker, executor, upkeep, loops) from its keys;
- `supervisor.py`: tasks that are restarted when they crash and cancelled within a bound;
- `stop.py`: the graceful stop's order cancellation, verified, with what was left said aloud;
- `lifecycle.py`: `Fleet`, which runs the above from start to stop.
"""

from rocky_bot.fleet.lifecycle import Fleet

__all__ = ["Fleet"]
