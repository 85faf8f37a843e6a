"""The daemon's long clocks over 7 simulated days, each where it lives, on a fake clock.

- clock re-sync: a local clock drifting 8 s a day from the exchange's (and an NTP step) never
  costs a request: each -1021 re-syncs and the request goes through;
- breaker cooldowns: every day an incident, half-open probes failing, the cooldown doubling up
  to its cap, and recovering to the first cooldown once a probe succeeds;
- the daily funding: a taker bleeding as expected all week, topped up hourly, never trips its
  breaker and never looks like a problem; the week the timer stops, the runway alarm rings.

The websockets' clocks (recycling, listenKey keepalive and expiry) are in
test_long_clocks_streams.py, on a virtual-time event loop.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import respx

from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.fleet.build import breaker_config
from rocky_bot.funnel import Role
from rocky_bot.ops.funding import plan_top_ups
from rocky_bot.ops.runway import AccountRunway, RunwayPolicy, WalletHistory, fleet_runway, runway
from rocky_bot.risk import BreakerConfig, BreakerState, CircuitBreaker, TripKind
from rocky_bot.settings import Settings

D = Decimal
DAY = 86400.0
WEEK = 7 * DAY
BASE = "https://rocky.test"


class Clock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_drifting_clock_costs_no_request_over_a_week() -> None:
    local = Clock()
    start = local.now
    drift_per_s = 8.0 / DAY  # the exchange's clock runs 8 s a day ahead of ours

    def server_ms() -> int:
        elapsed = local.now - start
        step = -3.0 if elapsed > 5 * DAY else 0.0  # day 5: NTP steps our clock 3 s
        return int((local.now + elapsed * drift_per_s - step) * 1000)

    syncs = []
    router = respx.Router(base_url=BASE)
    router.get("/fapi/v1/time").mock(
        side_effect=lambda _: syncs.append(local.now) or httpx.Response(
            200, json={"serverTime": server_ms()})
    )  # fmt: skip

    def balance(request: httpx.Request) -> httpx.Response:
        q = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        sent, window = int(q["timestamp"]), int(q["recvWindow"])
        if not server_ms() - window <= sent <= server_ms() + 1000:  # Binance's rule
            return httpx.Response(400, json={"code": -1021, "msg": "Timestamp outside window"})
        return httpx.Response(200, json=[{"asset": "USDT", "balance": "100",
                                          "crossWalletBalance": "100",
                                          "availableBalance": "100"}])  # fmt: skip

    router.get("/fapi/v1/balance").mock(side_effect=balance)

    async def week() -> int:
        client = ExchangeClient(
            BASE, "k" * 64, "s" * 64, account="taker-1", clock=local, sleep=local.sleep,
            transport=httpx.MockTransport(router.async_handler),
            governor=WeightGovernor(clock=local),
        )  # fmt: skip
        async with client:
            await client.sync_time()
            reads = 0
            while local.now - start < WEEK:
                local.now += 300  # the wallet read, every 5 minutes
                assert (await client.balance())[0].wallet == 100
                reads += 1
            return reads

    reads = asyncio.run(week())
    assert reads == 7 * 288
    # 8 s a day against a 5 s window: a re-sync every ~15 h, plus one for the step
    assert 10 <= len(syncs) - 1 <= 14, len(syncs)


def test_breaker_cooldowns_double_to_their_cap_and_recover_every_day_for_a_week() -> None:
    clock = Clock(0.0)
    breaker = CircuitBreaker(BreakerConfig(max_errors=10, cooldown_s=60, max_cooldown_s=900),
                             clock)  # fmt: skip
    for day in range(7):
        clock.now = day * DAY + 3600  # an incident an hour into each day
        for _ in range(10):
            breaker.record_error()
        assert breaker.state is BreakerState.OPEN and breaker.kind is TripKind.API_ERRORS
        cooldowns = []
        failures = day % 6 + 1  # 1..6 failed probes: the cooldown doubles each time
        for _ in range(failures):
            opened_for = 0.0
            while breaker.poll() is None:  # no half-open before the cooldown is over
                clock.now += 1
                opened_for += 1
            assert breaker.state is BreakerState.HALF_OPEN
            cooldowns.append(opened_for)
            breaker.record_error("probe failed")
        assert cooldowns == [min(60 * 2**i, 900) for i in range(failures)]
        while breaker.poll() is None:
            clock.now += 1
        breaker.record_success()
        assert breaker.state is BreakerState.CLOSED
    assert breaker.trips == sum(1 + (d % 6 + 1) for d in range(7))
    # recovered: the next incident starts again from the first cooldown
    for _ in range(10):
        breaker.record_error()
    assert breaker.poll() is None
    clock.now += 60
    assert breaker.poll() is not None


def simulate_funded_taker(*, funding_until: float) -> dict:
    """A taker over a week in 5-minute steps: it bleeds as the soak measured (≈ $200 a day on
    ≈ $190,000 of notional: fees, spread), the funding timer tops it up every hour (until
    `funding_until`), and the breaker and the runway policy watch."""
    s = Settings(_env_file=None)
    clock = Clock(0.0)
    breaker = CircuitBreaker(breaker_config(s, Role.TAKER), clock)
    history = WalletHistory()
    policy = RunwayPolicy(s.runway_alert_h, s.funding_quiet_s, s.wallet_seed_usd * s.fund_floor)
    wallet, traded = D(100), D(0)
    notional_per_step = D(190_000) / 288
    loss_per_step = notional_per_step * D("10.5") / 10_000  # ≈ $199 a day
    fundings, trips, alarms, lowest = 0, [], [], wallet
    floor = D(str(s.wallet_seed_usd * s.fund_floor))
    unfunded_since = None  # what AccountUpkeep tracks: under the floor, no deposit since
    while clock.now < WEEK:
        clock.now += 300
        traded += notional_per_step
        wallet -= loss_per_step
        deposit = D(0)
        if clock.now % 3600 == 0 and clock.now <= funding_until:
            plan = plan_top_ups({"taker-1": wallet}, floor, D(100))
            if plan:
                deposit = plan[0].amount
                wallet += deposit
                fundings += 1
        lowest = min(lowest, wallet)
        transition = breaker.update_wallet(wallet, traded_notional=traded, deposit=deposit)
        if transition is not None:
            trips.append((clock.now, transition.kind))
        history.note(clock.now, wallet, traded, deposit)
        if wallet >= floor:
            unfunded_since = None
        elif unfunded_since is None or deposit > 0:
            unfunded_since = clock.now
        unfunded = None if unfunded_since is None else clock.now - unfunded_since
        allowance = float(notional_per_step * 12 * breaker.allowance_per_notional)
        way = runway(wallet, breaker.drawdown_line, history.burn_per_day(clock.now), allowance)
        accounts = [
            AccountRunway(
                "taker-1", float(wallet), history.burn_per_day(clock.now), way.hours, unfunded
            ),
            AccountRunway("the other 29", 2900.0, 630.0, None),  # the fleet burns ≈ $830 a day
        ]
        doc = fleet_runway(accounts, history.last_deposit_at, 0.0, clock.now, policy)
        if doc["runway_low"]:
            alarms.append(clock.now)
    return {"fundings": fundings, "trips": trips, "alarms": alarms, "lowest": lowest}


def test_a_funded_taker_lives_the_week_without_a_trip_or_an_alarm() -> None:
    r = simulate_funded_taker(funding_until=WEEK)
    assert r["trips"] == [] and r["alarms"] == []
    assert r["lowest"] > 40  # the floor is 50; an hour's bleed is ≈ $8
    assert 22 <= r["fundings"] <= 30  # ≈ $1,400 of bleed, ≈ $50-58 a top-up


def test_when_funding_stops_the_runway_alarm_rings_two_hours_under_the_floor() -> None:
    stop = 5 * DAY
    r = simulate_funded_taker(funding_until=stop)
    # the last top-up lasts ≈ 6 h down to the floor, then 2 h unfunded under it
    assert r["alarms"] and stop + 6 * 3600 < r["alarms"][0] <= stop + 9 * 3600
    assert all(kind is not TripKind.DRAWDOWN for at, kind in r["trips"] if at <= stop)
