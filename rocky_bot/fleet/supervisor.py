"""Supervised tasks: a crash is logged and the task restarted; a stop is bounded in time.

A trading daemon must never lose a loop silently (the account would stop quoting with nothing
said), and must never hang on a stop because one task does not answer its cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger()

#: Pause before a crashed task is started again: a crash loop must not spin.
RESTART_DELAY_S = 1.0


class Supervisor:
    def __init__(self, restart_delay_s: float = RESTART_DELAY_S) -> None:
        self._restart_delay_s = restart_delay_s
        self.tasks: list[asyncio.Task[None]] = []
        self.restarts = 0
        self._stopping = False

    def spawn(
        self, name: str, factory: Callable[[], Awaitable[None]], *, restart: bool = True
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._supervise(name, factory, restart), name=name)
        self.tasks.append(task)
        return task

    async def _supervise(
        self, name: str, factory: Callable[[], Awaitable[None]], restart: bool
    ) -> None:
        while True:
            try:
                await factory()
                if not restart or self._stopping:
                    return
                log.error("task_exited", task=name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    return
                log.exception("task_crashed", task=name, error=repr(exc))
            self.restarts += 1
            await asyncio.sleep(self._restart_delay_s)

    def running_names(self) -> set[str]:
        return {t.get_name() for t in self.tasks if not t.done()}

    async def cancel(self, tasks: list[asyncio.Task[None]], timeout_s: float) -> list[str]:
        """Cancel `tasks` and wait at most `timeout_s`; the names of those still running.

        From the first call on, nothing is restarted: a task that ends during a stop (the feed
        closed under it) is finished, not crashed.
        """
        self._stopping = True
        for task in tasks:
            task.cancel()
        if not tasks:
            return []
        _, pending = await asyncio.wait(tasks, timeout=max(0.0, timeout_s))
        stuck = sorted(t.get_name() for t in pending)
        if stuck:
            log.error("tasks_stuck", tasks=stuck, waited_s=timeout_s)
        return stuck


async def run_bounded(awaitables: list, timeout_s: float) -> None:
    """Run `awaitables` concurrently for at most `timeout_s`; what is left is cancelled."""
    if not awaitables:
        return
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    _, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
