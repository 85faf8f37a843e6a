"""Run the real daemon against a real sandbox in-process, with timings compressed for tests.

`running_fleet(sandbox, ...)` mints the accounts through the onboarding contract, writes a mode-600
keys file, starts `run_daemon` with its own stop event and yields a handle; leaving the context
stops the daemon the way SIGTERM does (unless the test already did) and checks it exited 0.
Invariant checkers read the exchange's side (`sandbox.engine`), never the bot's own beliefs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from rocky_bot.daemon import run_daemon
from rocky_bot.fleet import Fleet
from rocky_bot.funnel import funnel_ids, parse_account_id, qty_for
from rocky_bot.keys import load_keys, write_keys
from rocky_bot.ops.notify import SystemdNotifier
from rocky_bot.ops.onboarding import mint_accounts
from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.settings import Settings

#: Loop timings compressed ~10x so a test sees many iterations in a few seconds.
FAST = dict(
    anchor_interval_s=0.3, anchor_jitter_s=0.1, ladder_interval_s=0.4, ladder_jitter_s=0.1,
    taker_interval_s=1.5, taker_jitter_s=0.5, min_sleep_s=0.05, reconcile_interval_s=2.0,
    balance_interval_s=5.0, deadman_heartbeat_s=2.0, deadman_countdown_s=6.0,
    feed_stale_s=1.5, breaker_cooldown_s=2.0, breaker_max_cooldown_s=8.0,
    stop_timeout_s=8.0, summary_interval_s=2.0, metrics_port=0, log_format="json",
    log_level="warning", position_max_age_s=2.0,
    runway_alert_h=0,  # compressed timings burn a day's fees in minutes: judged in its own test
    # ~10x the timings, ~10x the planned weight: the `sandbox` fixture's limit, or the budget
    # planner refuses to start (it is tested on its own, in test_budget / test_symbols).
    weight_limit_per_min=48_000,
)  # fmt: skip


def sandbox_feed_url(sandbox: SandboxExchange, symbols=("BTCUSDT", "ETHUSDT")) -> str:
    """The daemon follows the sandbox's reference price (its stand-in for Binance's feed)."""
    return sandbox.reference_url(tuple(symbols))


async def mint_keys(sandbox: SandboxExchange, path: Path, ids: list[str], amount=100) -> Path:
    minted = await mint_accounts(sandbox.base_url, sandbox.admin_token, ids, amount)
    write_keys(path, sandbox.base_url, minted)
    return path


@dataclass
class FleetHandle:
    fleet: Fleet
    stop: asyncio.Event
    task: asyncio.Task[int]
    settings: Settings
    keys_path: Path
    sandbox: SandboxExchange

    @property
    def account_names(self) -> dict[str, str]:
        """Bot account id → sandbox account name (the key's owner)."""
        keys = load_keys(self.keys_path)
        return {a.account_id: self.sandbox.keys.get(a.key).account for a in keys.accounts}

    async def wait_ready(self, timeout: float = 20.0) -> None:
        await asyncio.wait_for(self.fleet.ready.wait(), timeout)

    async def stop_and_wait(self, timeout: float | None = None) -> int:
        self.stop.set()
        return await asyncio.wait_for(self.task, timeout or self.settings.stop_timeout_s + 5)


def settings_for(sandbox: SandboxExchange, keys_path: Path, **overrides) -> Settings:
    values = {**FAST, "keys_path": keys_path, "feed_url": sandbox_feed_url(sandbox), **overrides}
    return Settings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def running_fleet(
    sandbox: SandboxExchange,
    tmp_path: Path,
    *,
    ids: list[str] | None = None,
    amount: float = 100,
    notifier: SystemdNotifier | None = None,
    wait_ready: bool = True,
    keys_path: Path | None = None,
    **overrides,
) -> AsyncIterator[FleetHandle]:
    if keys_path is None:
        keys_path = await mint_keys(sandbox, tmp_path / "keys.json", ids or funnel_ids(30), amount)
    settings = settings_for(sandbox, keys_path, **overrides)
    keys = load_keys(keys_path)
    fleet = Fleet(settings, keys, seed=7)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_daemon(
            settings, keys, stop=stop, install_signals=False, fleet=fleet,
            notifier=notifier or SystemdNotifier(None),
        )
    )  # fmt: skip
    handle = FleetHandle(fleet, stop, task, settings, keys_path, sandbox)
    try:
        if wait_ready:
            await handle.wait_ready()
        yield handle
    finally:
        if not task.done():
            stop.set()
            code = await asyncio.wait_for(task, settings.stop_timeout_s + 10)
            assert code == 0


# --- invariants, read from the exchange -----------------------------------------------------


def live_orders_by_account(handle: FleetHandle) -> dict[str, list]:
    engine = handle.sandbox.engine
    return {bot_id: engine.open_orders(name) for bot_id, name in handle.account_names.items()}


def worst_exposure_ratio(handle: FleetHandle) -> float:
    """max over accounts and symbols of |position·mark| / cap, from the exchange's positions."""
    engine = handle.sandbox.engine
    worst = 0.0
    for bot_id, name in handle.account_names.items():
        spec = parse_account_id(bot_id)
        cap = Decimal(str(handle.settings.cap_for(spec.layer)))
        view = engine.account_view(name)
        for position in view.positions:
            notional = abs(Decimal(str(position.amount)) * engine.mark(position.symbol))
            worst = max(worst, float(notional / cap))
    return worst


def one_order_notional_ratio(handle: FleetHandle, bot_id: str, symbol: str) -> float:
    spec = parse_account_id(bot_id)
    cap = Decimal(str(handle.settings.cap_for(spec.layer)))
    return float(qty_for(spec.layer, symbol) * handle.sandbox.engine.mark(symbol) / cap)


def total_open_orders(sandbox: SandboxExchange) -> int:
    return sandbox.engine.open_order_count()
