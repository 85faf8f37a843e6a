"""The fleet's start, step by step: what is checked before any I/O, the exchange's rules, every
account's set-up, and the wait for a live mid on every symbol.

What a user can fix by editing settings is refused with one line and exit 78 (`ConfigError`),
never retried: a symbol the exchange does not list, a symbol whose feed stays silent while the
others tick (its stream is misnamed), settings that would spend more request weight than the IP
allows. Anything else (the exchange or the feed not answering yet) is waited out.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence

import structlog

from rocky_bot.backoff import jittered_backoff
from rocky_bot.budget import Plan, plan_for, refuse_over_budget
from rocky_bot.config_errors import ConfigError
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import ExchangeError, FatalError
from rocky_bot.exchange.models import SymbolRules
from rocky_bot.feed import names
from rocky_bot.feed.binance import BinanceFeed
from rocky_bot.fleet.build import AccountUnit
from rocky_bot.keys import KeysFile
from rocky_bot.settings import Settings
from rocky_bot.waits import wait_event

log = structlog.get_logger()


def preflight(settings: Settings, keys: KeysFile) -> Plan:
    """Before any I/O: every symbol has a feed stream, and the plan fits the IP's budget."""
    try:
        streams = settings.feed_streams()
    except ValueError as exc:
        raise ConfigError(f"setting feed_symbols (ROCKY_FEED_SYMBOLS): {exc}") from None
    unfed = names.unfed(settings.feed_url, streams)
    if unfed:
        raise ConfigError(
            f"no reference feed for {', '.join(unfed)}: ROCKY_FEED_URL names its streams and "
            f"not theirs ({', '.join(s for s in streams if streams[s] in unfed)}); drop "
            "`streams=` from it to follow ROCKY_SYMBOLS"
        )
    plan = plan_for(settings, [a.spec for a in keys.accounts])
    refuse_over_budget(plan)
    log.info("budget_planned", **plan.as_log())
    return plan


async def load_rules(
    probe: ExchangeClient, symbols: Sequence[str], stop: asyncio.Event, rng: random.Random
) -> tuple[dict[str, SymbolRules], int] | None:
    """exchangeInfo and the server clock; retried while the exchange does not answer, refused
    at once when it answers without one of our symbols. None when stopped first."""
    delays = jittered_backoff(initial_s=0.5, max_s=30.0, rng=rng)
    while not stop.is_set():
        try:
            rules = await probe.exchange_info()
            missing = [s for s in symbols if s not in rules]
            if missing:
                raise ConfigError(
                    f"setting symbols (ROCKY_SYMBOLS): the exchange does not list "
                    f"{', '.join(missing)} (it lists {len(rules)} symbols)"
                )
            return rules, await probe.sync_time()  # one clock offset for every account
        except ExchangeError as exc:
            delay = next(delays)
            log.warning("exchange_info_failed", error=str(exc), retry_in_s=round(delay, 3))
            await wait_event(stop, delay)
    return None


async def setup_accounts(
    units: Sequence[AccountUnit],
    stop: asyncio.Event,
    rng_for: Callable[[str], random.Random],
    set_aside: dict[str, str],
) -> None:
    """Every account's set-up at once, each retried on its own schedule; an account whose
    credentials are refused is set aside (`set_aside[id] = why`) and the rest go on."""

    async def setup(unit: AccountUnit) -> None:
        # its own task (gather): the binding names the account in set-up's log lines
        structlog.contextvars.bind_contextvars(account=unit.account_id, role="upkeep")
        delays = jittered_backoff(initial_s=0.5, max_s=30.0, rng=rng_for(unit.account_id))
        while not stop.is_set():
            try:
                await unit.upkeep.setup()
                return
            except FatalError as exc:  # credentials refused: no retry will help
                set_aside[unit.account_id] = str(exc)
                log.error(
                    "account_set_aside", account=unit.account_id, error=str(exc),
                    hint="check this account's key and secret in the keys file",
                )  # fmt: skip
                return
            except ExchangeError as exc:
                delay = next(delays)
                log.warning(
                    "account_setup_failed", account=unit.account_id, error=str(exc),
                    retry_in_s=round(delay, 3),
                )  # fmt: skip
                await wait_event(stop, delay)

    await asyncio.gather(*(setup(unit) for unit in units))


async def wait_live(
    feed: BinanceFeed, symbols: Sequence[str], stop: asyncio.Event, first_tick_s: float
) -> bool:
    """Until every symbol has a fresh mid (True), or the stop (False).

    Waited out for as long as it takes while the feed is down. But a symbol that has never had
    a tick `first_tick_s` after another one did has no stream behind its name: refused.
    """
    loop = asyncio.get_running_loop()
    first_live_at: float | None = None
    while not await feed.wait_live(symbols, timeout=1.0):
        if stop.is_set():
            return False
        heard = [s for s in symbols if feed.mid(s) is not None]
        if heard and first_live_at is None:
            first_live_at = loop.time()
        silent = [s for s in symbols if feed.mid(s) is None]
        if first_live_at is not None and silent and loop.time() - first_live_at > first_tick_s:
            stream_of = {symbol: stream for stream, symbol in feed.settings.streams.items()}
            raise ConfigError(
                f"no reference price for {', '.join(silent)}: nothing on "
                f"{', '.join(stream_of[s] for s in silent)} for {first_tick_s:g} s while "
                f"{', '.join(heard)} ticked (name its Binance stream with "
                "ROCKY_FEED_SYMBOLS=SYMBOL=stream)"
            )
    return True
