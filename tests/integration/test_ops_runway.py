"""Weeks unattended (issue 10), against the real sandbox: a price jump opens every breaker; a
short runway with nobody funding makes the daemon unhealthy until a faucet credit arrives."""

from __future__ import annotations

import asyncio
import time

import httpx
from fleet_harness import running_fleet
from waiting import wait_for

from rocky_bot.risk import TripKind

IDS = ["mm-anchor", "mm-l1-buy-05bps", "mm-l1-sell-05bps", "taker-1"]
QUICK = dict(balance_interval_s=0.5, taker_interval_s=0.8, taker_jitter_s=0.2)


async def status(url: str) -> dict:
    async with httpx.AsyncClient() as client:
        return (await client.get(url + "/status")).json()


async def test_a_price_jump_opens_every_breaker_and_they_close_again(sandbox, tmp_path):
    async with running_fleet(sandbox, tmp_path, ids=IDS, stagger=False) as handle:
        contexts = handle.fleet.contexts
        sandbox.prices.jump(3.0)  # +3 %: accepted (under the 5 % jump filter), a shock (> 2 %)
        assert await wait_for(
            lambda: all(c.breaker.kind is TripKind.PRICE_JUMP for c in contexts), 5, interval=0.02
        )
        assert all(c.breaker.trips_by_kind == {"price_jump": 1} for c in contexts)
        # after the cooldown (2 s here) they half-open: a jump must not stop the fleet for good
        assert await wait_for(
            lambda: all(c.breaker.state.value != "open" for c in contexts), 10, interval=0.05
        )


async def test_a_short_runway_without_funding_is_unhealthy_until_a_faucet_credit(sandbox, tmp_path):
    """With a $1000 seed in mind, the $100 wallets are under the funding floor ($500): nobody
    funds the taker for 3 s (the compressed 'two hours'), so the daemon says so; faucet credits
    (deposits on the user stream) end the problem."""
    async with running_fleet(
        sandbox, tmp_path, ids=IDS, runway_alert_h=24, wallet_seed_usd=1000,
        funding_quiet_s=3.0, **QUICK,
    ) as handle:  # fmt: skip
        url = handle.fleet.status_url

        async def problems() -> list[str]:
            return (await status(url))["problems"]

        # compressed timings burn the taker's fees at many $/day: its runway is hours
        assert await wait_for_async(lambda: _has_runway_problem(problems), 20)
        doc = await status(url)
        taker = next(a for a in doc["accounts"] if a["account"] == "taker-1")
        assert taker["runway_h"] < 24 and taker["last_funding_s_ago"] is None
        async with httpx.AsyncClient(
            base_url=sandbox.base_url, headers={"X-Admin-Token": sandbox.admin_token}
        ) as admin:  # each account under the floor counts its own unfunded time: fund them all
            for account in handle.fleet.keys.accounts:
                body = {"apiKey": account.key, "amount": "50"}
                assert (await admin.post("/admin/v1/faucet", json=body)).status_code == 200
        assert await wait_for_async(lambda: _no_runway_problem(problems), 2.5)
        doc = await status(url)
        assert doc["fleet"]["last_funding_s_ago"] is not None
        assert doc["fleet"]["last_funding_s_ago"] < 10


async def _has_runway_problem(problems) -> bool:
    """The account rule's problem (the whole fleet's runway is judged on its own)."""
    return any(p.startswith("runway low, unfunded") for p in await problems())


async def _no_runway_problem(problems) -> bool:
    return not await _has_runway_problem(problems)


async def wait_for_async(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return bool(await predicate())
