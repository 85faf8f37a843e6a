"""The fleet's health as data: the `/status` document, `/metrics`, and the health verdict."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from rocky_bot.fleet import Fleet


def loop_is_alive(loop, now: float) -> bool:
    """A loop is dead when it has not finished an iteration within three of its intervals."""
    t = loop.timing
    bound = 3 * (t.interval_s + t.jitter_s) + 10
    last = loop.last_iteration_at or loop.started_at
    return last is None or now - last <= bound


def fleet_status(fleet: Fleet) -> dict[str, Any]:
    now = time.monotonic()
    feed = fleet.feed
    symbols = fleet.settings.symbols
    feed_doc = {
        s: {
            "mid": str(feed.mid(s)) if feed.mid(s) is not None else None,
            "age_s": None if feed.age_s(s) is None else round(feed.age_s(s), 3),
            "live": feed.is_live(s),
            "stale": feed.is_stale(s),
        }
        for s in symbols
    }
    accounts = []
    for ctx in fleet.contexts:
        upkeep = fleet.upkeeps[ctx.account_id]
        burn = upkeep.burn_per_day()
        wallet = ctx.state.wallet
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
                "open_orders": len(ctx.state.orders),
                "positions": positions,
                "cap": float(ctx.cap),
                "wallet": None if wallet is None else str(wallet),
                "burn_per_day": None if burn is None else round(burn, 4),
                "days_to_empty": (
                    round(float(wallet) / burn, 1) if burn and burn > 0 and wallet else None
                ),
                "fills": ctx.state.fills,
                "streaming": ctx.streaming,
                "last_error": ctx.state.last_error,
            }
        )
    dead = [loop.name for loop in fleet.loops if not loop_is_alive(loop, now)]
    problems = []
    if not all(feed.is_live(s) for s in symbols):
        problems.append("feed not live: " + ", ".join(s for s in symbols if not feed.is_live(s)))
    open_breakers = [a["account"] for a in accounts if a["breaker"] == "open"]
    if open_breakers:
        problems.append("breakers open: " + ", ".join(open_breakers))
    if dead:
        problems.append("loops dead: " + ", ".join(dead))
    if not fleet.ready.is_set():
        problems.append("not ready")
    return {
        "healthy": not problems,
        "problems": problems,
        "uptime_s": round(now - fleet.started_at, 1),
        "feed": feed_doc,
        "used_weight_1m": fleet.governor.used_weight,
        "loops": len(fleet.loops),
        "task_restarts": fleet.restarts,
        "accounts": accounts,
    }


def status_app(fleet: Fleet) -> Starlette:
    async def status(_: Request) -> JSONResponse:
        doc = fleet_status(fleet)
        return JSONResponse(doc, status_code=200 if doc["healthy"] else 503)

    async def metrics(_: Request) -> Response:
        for s in fleet.settings.symbols:
            age = fleet.feed.age_s(s)
            if age is not None:
                fleet.metrics.feed_age.labels(s).set(age)
        fleet.metrics.feed_reconnects.set(fleet.feed.stats.reconnects)
        for ctx in fleet.contexts:
            fleet.metrics.position_cap.labels(ctx.account_id).set(float(ctx.cap))
            for s in fleet.settings.symbols:
                mid = fleet.feed.mid(s)
                if mid is not None:
                    notional = float(abs(ctx.state.position(s) * mid))
                    fleet.metrics.position_notional.labels(ctx.account_id, s).set(notional)
            if ctx.state.wallet is not None:
                fleet.metrics.wallet.labels(ctx.account_id).set(float(ctx.state.wallet))
            burn = fleet.upkeeps[ctx.account_id].burn_per_day()
            if burn is not None:
                fleet.metrics.wallet_burn.labels(ctx.account_id).set(burn)
        return Response(fleet.metrics.render(), media_type="text/plain; version=0.0.4")

    return Starlette(routes=[Route("/status", status), Route("/metrics", metrics)])
