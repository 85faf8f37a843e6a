"""The fault matrix, REST faults: each applied alone to a 30-account fleet, then cleared.

Every scenario asserts (scenario.run_scenario): invariants 1–3 held throughout, checked from
the exchange's side; the funnel back in full with every breaker closed within 10 s of the
clear; every loop iterating afterwards, no task restarted, the daemon still running; no secret
in the log stream, /status or /metrics. Holds are 4–6 s: the daemon's reaction times are
compressed with it (scenario.MATRIX: 1 s client timeout, 1–4 s breaker cooldowns).

`grace_s` is how long a second live order on one side is tolerated (invariant 1's "instant of a
make-before-break replace"): 0.3 s on a healthy exchange, widened by what the fault does to the
two requests of a replace (a slow exchange delays the cancel). Where the exchange refuses or
drops requests (`refuses=True`: 5xx, timeouts, 429, 418) the cancel of the replaced order cannot
go through until it answers again, so a second order is judged from the clear on.
"""

from __future__ import annotations

import asyncio

from scenario import eventually, run_scenario


def faults(**changes):
    async def inject(inv):
        await inv.sandbox.fault_injector.apply(seed=5, **changes)

    return inject


def report(name: str, out) -> None:
    print(f"\n{name}: recovery {out.recovery_s:.2f}s, {out.checks} checks, {out.orders} orders, "
          f"injected {out.injected}")  # fmt: skip


async def test_latency(tmp_path):
    """150 ms on every reply: a replace takes two of them, so ~0.3 s of overlap plus queueing."""
    out = await run_scenario(tmp_path, inject=faults(latency_ms=150), hold_s=4, grace_s=1.0)
    assert out.injected["latency"] > 100
    report("latency", out)


async def test_error_rate(tmp_path):
    """30 % of calls answered 503 unknown-status, half the order mutations executed anyway.

    Each timed-out order is looked up by its clientOrderId before any resend, so no decision is
    ever doubled (invariant 3), and the daemon's picture stays true enough to hold 1 and 2.
    """
    out = await run_scenario(
        tmp_path, inject=faults(error_rate=0.3), hold_s=5, grace_s=1.0, refuses=True
    )
    assert out.injected["error_executed"] > 0
    assert "order_status_recovered" in out.log  # a 503'd order that did land was found
    report("error_rate", out)


async def test_timeout_rate(tmp_path):
    """20 % of calls executed, then held past the 1 s client timeout. A replace's new order can
    take 1 s (timeout) + a lookup that itself times out before it is confirmed, and the old
    one is cancelled only then: the make-before-break window is a few client timeouts long."""
    out = await run_scenario(
        tmp_path, inject=faults(timeout_rate=0.2), hold_s=5, grace_s=1.0, refuses=True
    )
    assert out.injected["timeout"] > 10
    assert "order_status_recovered" in out.log
    report("timeout_rate", out)


async def test_rate_limit(tmp_path):
    """429 + Retry-After 1 s on everything: every client pauses instead of hammering."""
    out = await run_scenario(
        tmp_path, inject=faults(rate_limit=True, retry_after_s=1), hold_s=4,
        grace_s=1.0, refuses=True,
    )  # fmt: skip
    # Paused clients do not retry before Retry-After: about one 429 per account per second.
    assert out.injected["rate_limit"] < 30 * 4 * 3, out.injected
    report("rate_limit", out)


async def test_ban(tmp_path):
    """418 + Retry-After 2 s: the IP is banned, so every client of the fleet pauses at once."""
    out = await run_scenario(
        tmp_path, inject=faults(ban=True, retry_after_s=2), hold_s=4,
        grace_s=1.0, refuses=True,
    )  # fmt: skip
    assert out.injected["ban"] < 30 * 4, out.injected  # one 418 stops everyone for 2 s
    report("ban", out)


async def test_clock_skew(tmp_path):
    """The server's clock 3 s behind, then 8 s ahead (past recvWindow), then right again:
    -1021 re-syncs the client's clock and the request is retried once, never a breaker trip."""

    async def inject(inv):
        await inv.sandbox.fault_injector.apply(clock_skew_ms=-3000)
        await asyncio.sleep(2.5)
        await inv.sandbox.fault_injector.apply(clock_skew_ms=8000)

    out = await run_scenario(tmp_path, inject=inject, hold_s=2.5, grace_s=0.6)
    assert out.log.count('"timestamp_rejected"') >= 30, "every client met a -1021 and re-synced"
    assert '"breaker_tripped"' not in out.log
    report("clock_skew", out)


async def test_reject_margin(tmp_path):
    """-2019 on every new order: three in a minute trip the account's breaker, which pulls its
    quotes; once the exchange accepts orders again the breakers half-open and close."""
    out = await run_scenario(tmp_path, inject=faults(reject_margin=True), hold_s=4, grace_s=0.6)
    assert out.injected["reject_margin"] > 0
    assert '"breaker_tripped"' in out.log and '"breaker_closed"' in out.log
    report("reject_margin", out)


async def test_missing_capabilities_are_learnt_once_and_fallen_back_from(tmp_path):
    """An exchange without PUT order, countdownCancelAll, the user data stream, IOC and the
    account call from the start: each is detected from the first refusal and logged once, the
    fleet falls back (cancel/replace, no dead-man, REST polling, GTC takers that cancel their
    leftovers, balance + positionRisk at set-up) and never asks again — the exchange sees a
    handful of refused requests, not a loop of them."""

    async def lacking(sandbox):
        await sandbox.fault_injector.apply(
            unsupported=["modify", "countdown", "user_stream", "ioc", "account"]
        )

    asked: dict[str, int] = {}

    async def nothing_more(inv):  # once each refusal has been met, the hold starts
        injected = inv.sandbox.fault_injector.injected
        await eventually(lambda: sum(k.startswith("unsupported:") for k in injected) == 5, 5)
        asked.update(injected)

    async def still_nothing_more(handle, inv):
        again = {k: v - asked.get(k, 0) for k, v in inv.sandbox.fault_injector.injected.items()}
        assert not any(again.values()), f"asked again during the hold: {again}"

    out = await run_scenario(
        tmp_path, before_start=lacking, inject=nothing_more, hold_s=5, check=still_nothing_more,
        grace_s=0.6,
    )  # fmt: skip
    hits = {k.split(":")[1]: v for k, v in out.injected.items() if k.startswith("unsupported:")}
    assert set(hits) == {"modify", "countdown", "user_stream", "ioc", "account"}, hits
    # At most the requests already in flight when the first refusal came back: one per account
    # at set-up (account, countdown, listenKey), one per taker / maker loop (IOC, modify).
    assert hits["user_stream"] <= 30 and hits["countdown"] <= 25, hits
    assert hits["account"] <= 30, hits
    assert hits["ioc"] <= 10 and hits["modify"] <= 50, hits
    missing = [line for line in out.log.splitlines() if '"capability_missing"' in line]
    assert sorted(c for c in ("modify", "countdown", "user_stream", "ioc", "account") if any(
        f'"capability": "{c}"' in line for line in missing
    )) == sorted(hits)  # fmt: skip
    assert len(missing) == 5, missing  # logged once each, for the whole fleet
    print(f"\ncapabilities: refused requests {hits}, recovery {out.recovery_s:.2f}s")
