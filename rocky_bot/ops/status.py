"""The fleet's health as data: the `/status` document, `/metrics`, and the health verdict.

Both are read from the fleet's own state when asked (no background copying), so what
`rocky-bot status`, Prometheus and the `fleet_summary` log show is the same picture.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rocky_bot.ops.runway import AccountRunway, RunwayPolicy, fleet_runway

if TYPE_CHECKING:
    from rocky_bot.fleet import Fleet
    from rocky_bot.strategies.loop import StrategyLoop

#: Seconds beyond three loop intervals before a silent loop counts as dead: one iteration may
#: legitimately spend a few request timeouts (5 s each by default) on a slow exchange.
LOOP_GRACE_S = 10.0


def loop_is_alive(loop: StrategyLoop, now: float, running: set[str] | None = None) -> bool:
    """Dead: its task is gone (`running` = names of the live tasks), or no iteration has
    finished within three of its intervals plus a grace for slow requests."""
    if running is not None and loop.name not in running:
        return False
    t = loop.timing
    bound = 3 * (t.interval_s + t.jitter_s) + LOOP_GRACE_S
    last = loop.last_iteration_at or loop.started_at
    return last is None or now - last <= bound


def _running_task_names() -> set[str] | None:
    try:
        return {task.get_name() for task in asyncio.all_tasks()}
    except RuntimeError:  # no running event loop (a synchronous caller): judge by time alone
        return None


def days_to_empty(wallet: float | None, burn_per_day: float | None) -> float | None:
    """Days until the wallet is empty at the current burn rate (None: not burning, or unknown)."""
    if wallet is None or burn_per_day is None or burn_per_day <= 0 or wallet <= 0:
        return None
    return wallet / burn_per_day


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _ago(now: float, at: float | None) -> float | None:
    return None if at is None else round(now - at, 1)


CENT = Decimal("0.01")


def runway_of(fleet: Fleet, now: float, accounts: list[AccountRunway]) -> dict[str, Any]:
    s = fleet.settings
    policy = RunwayPolicy(s.runway_alert_h, s.funding_quiet_s, s.wallet_seed_usd * s.fund_floor)
    deposits = [u.wallet_history.last_deposit_at for u in fleet.upkeeps.values()]
    last = max((d for d in deposits if d is not None), default=None)
    return fleet_runway(accounts, last, fleet.started_at, now, policy)


def fleet_status(fleet: Fleet) -> dict[str, Any]:
    now = time.monotonic()
    feed = fleet.feed
    settings = fleet.settings
    symbols = settings.symbols
    feed_doc = {}
    for s in symbols:
        mid, age = feed.mid(s), feed.age_s(s)
        feed_doc[s] = {
            "mid": None if mid is None else str(mid),
            "age_s": None if age is None else round(age, 3),
            "live": feed.is_live(s),
            "stale": feed.is_stale(s),
        }
    wallet_floor = settings.wallet_seed_usd * settings.wallet_warn_share
    accounts = []
    upkeeps = fleet.upkeeps
    for ctx in fleet.contexts:
        upkeep = upkeeps[ctx.account_id]
        burn = upkeep.burn_per_day()
        runway = upkeep.runway()
        wallet = None if ctx.state.wallet is None else float(ctx.state.wallet)
        line = ctx.breaker.drawdown_line
        positions = {}
        for s in symbols:
            mid = feed.mid(s)
            amount = ctx.state.position(s)
            positions[s] = {
                "amount": str(amount),
                "notional": None if mid is None else round(float(abs(amount * mid)), 2),
            }
        accounts.append(
            {
                "account": ctx.account_id,
                "role": ctx.spec.role.value,
                "layer": ctx.spec.layer.value,
                "breaker": ctx.breaker.state.value,
                "breaker_reason": ctx.breaker.reason or None,
                "breaker_kind": None if ctx.breaker.kind is None else ctx.breaker.kind.value,
                "drawdown": round(ctx.breaker.drawdown, 4),
                "unexplained_loss": str(ctx.breaker.unexplained_loss),
                "drawdown_line": None if line is None else str(line.quantize(CENT)),
                "open_orders": len(ctx.state.orders),
                "positions": positions,
                "cap": float(ctx.cap),
                "wallet": None if ctx.state.wallet is None else str(ctx.state.wallet),
                "wallet_low": wallet is not None and wallet < wallet_floor,
                "burn_per_day": None if burn is None else round(burn, 4),
                "days_to_empty": _rounded(days_to_empty(wallet, burn), 2),
                "hours_to_empty": _rounded(runway.hours_to_empty, 1),
                "hours_to_line": _rounded(runway.hours_to_line, 1),
                "runway_h": _rounded(runway.hours, 1),
                "last_funding_s_ago": _ago(now, upkeep.wallet_history.last_deposit_at),
                "unfunded_s": _rounded(upkeep.wallet_history.unfunded_s(now), 1),
                "fills": ctx.state.fills,
                "streaming": ctx.account.positions.streamed,
                "set_aside": fleet.set_aside.get(ctx.account_id),
                "last_error": ctx.state.last_error,
            }
        )
    fleet_doc = runway_of(fleet, now, [
        AccountRunway(a["account"], None if a["wallet"] is None else float(a["wallet"]),
                      a["burn_per_day"], a["runway_h"], a["unfunded_s"])
        for a in accounts
    ])  # fmt: skip
    problems = []
    if fleet_doc["runway_low"]:
        problems.append(fleet_doc["runway_low"])
    if not all(feed.is_live(s) for s in symbols):
        problems.append("feed not live: " + ", ".join(s for s in symbols if not feed.is_live(s)))
    if fleet.set_aside:
        problems.append("accounts set aside: " + ", ".join(sorted(fleet.set_aside)))
    open_breakers = [a["account"] for a in accounts if a["breaker"] == "open"]
    if open_breakers:
        problems.append("breakers open: " + ", ".join(open_breakers))
    if fleet.ready.is_set():  # before it, loops are built but not yet started
        running = _running_task_names()
        loops = [loop for unit in fleet.active_units() for loop in unit.loops]
        dead = [loop.name for loop in loops if not loop_is_alive(loop, now, running)]
        if dead:
            problems.append("loops dead: " + ", ".join(dead))
    else:
        problems.append("not ready")
    low = [a["account"] for a in accounts if a["wallet_low"]]
    warnings = [f"wallets under {wallet_floor:g}: " + ", ".join(low)] if low else []
    return {
        "healthy": not problems,
        "problems": problems,
        "warnings": warnings,
        "uptime_s": round(now - fleet.started_at, 1),
        "feed": feed_doc,
        "used_weight_1m": fleet.governor.used_weight,
        "loops": len(fleet.loops),
        "task_restarts": fleet.restarts,
        "fleet": fleet_doc,
        "accounts": accounts,
    }


def refresh_metrics(fleet: Fleet) -> None:
    """Copy the values that live in the fleet's state into its gauges and counters."""
    m = fleet.metrics
    for s in fleet.settings.symbols:
        age = fleet.feed.age_s(s)
        if age is not None:
            m.feed_age.labels(s).set(age)
    m.feed_reconnects.set(fleet.feed.stats.reconnects)
    m.used_weight.set(fleet.governor.used_weight)
    for s in fleet.settings.symbols:
        m.count_to(m.symbol_fills, sum(c.state.fills_by_symbol[s] for c in fleet.contexts), s)
    now = time.monotonic()
    runways: list[AccountRunway] = []
    for ctx in fleet.contexts:
        account = ctx.account_id
        state = ctx.breaker.state.value
        m.breaker_open.labels(account).set(1 if state == "open" else 0)
        m.breaker_half_open.labels(account).set(1 if state == "half_open" else 0)
        m.count_to(m.fills, ctx.state.fills, account, ctx.spec.role.value)
        m.position_cap.labels(account).set(float(ctx.cap))
        for s in fleet.settings.symbols:
            mid = fleet.feed.mid(s)
            if mid is not None:
                notional = float(abs(ctx.state.position(s) * mid))
                m.position_notional.labels(account, s).set(notional)
        wallet = None if ctx.state.wallet is None else float(ctx.state.wallet)
        if wallet is not None:
            m.wallet.labels(account).set(wallet)
        burn = fleet.upkeeps[account].burn_per_day()
        if burn is not None:
            m.wallet_burn.labels(account).set(burn)
        days = days_to_empty(wallet, burn)
        if days is not None:
            m.wallet_days_left.labels(account).set(days)
        upkeep = fleet.upkeeps[account]
        runway = upkeep.runway()
        m.runway.labels(account).set(_or_inf(runway.hours))
        m.hours_to_line.labels(account).set(_or_inf(runway.hours_to_line))
        for kind, count in ctx.breaker.trips_by_kind.items():
            m.count_to(m.breaker_trips, count, account, kind)
        unfunded = upkeep.wallet_history.unfunded_s(now)
        m.unfunded.labels(account).set(unfunded or 0.0)
        runways.append(AccountRunway(account, wallet, burn, runway.hours, unfunded))
    fleet_doc = runway_of(fleet, now, runways)
    m.fleet_runway.set(_or_inf(fleet_doc["runway_h"]))
    m.last_funding_age.set(_or_inf(fleet_doc["last_funding_s_ago"]))


def _or_inf(value: float | None) -> float:
    return float("inf") if value is None else value


def status_app(fleet: Fleet) -> Starlette:
    async def status(_: Request) -> JSONResponse:
        doc = fleet_status(fleet)
        return JSONResponse(doc, status_code=200 if doc["healthy"] else 503)

    async def metrics(_: Request) -> Response:
        refresh_metrics(fleet)
        return Response(fleet.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/status", status), Route("/metrics", metrics)])
