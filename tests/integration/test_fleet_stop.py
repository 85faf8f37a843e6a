"""Start and stop as a user relies on them, against the real sandbox (in-process daemon).

- leftover orders of an earlier run are cancelled before the fleet quotes, even a single one;
- an account whose credentials the exchange refuses is set aside; the rest of the fleet quotes;
- a stop that cannot cancel keeps the dead-man armed (the book empties by itself), lists what it
  left and exits 1 — it used to disarm the dead-man, say nothing and exit 0.
"""

from __future__ import annotations

import time

import httpx
import pytest
from fleet_harness import mint_keys, running_fleet
from helpers import signed
from scenario import eventually
from waiting import wait_for

from rocky_bot.keys import load_keys, write_keys
from rocky_bot.sandbox.errors import SandboxError


@pytest.mark.parametrize("leftovers", [1, 2])
async def test_leftover_orders_of_an_earlier_run_are_cancelled_before_the_first_quote(
    sandbox, tmp_path, leftovers
):
    keys_path = await mint_keys(sandbox, tmp_path / "keys.json", ["mm-l2-buy-20bps"])
    account = load_keys(keys_path).accounts[0]
    async with httpx.AsyncClient(base_url=sandbox.base_url) as http:
        for n in range(leftovers):
            reply = await signed(
                http, "POST", "/fapi/v1/order", account.key, account.secret,
                {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "0.02", "price": str(3000 - n), "newClientOrderId": f"earlier-{n}"},
            )  # fmt: skip
            assert reply.status_code == 200, reply.text
    name = sandbox.keys.get(account.key).account
    first_quote_saw: list[list[str]] = []
    original = sandbox.engine.submit

    def submit(who, req):  # the exchange's view at the fleet's first order
        if who == name and not first_quote_saw:
            first_quote_saw.append([o.client_order_id for o in sandbox.engine.open_orders(who)])
        return original(who, req)

    sandbox.engine.submit = submit  # type: ignore[method-assign]
    try:
        async with running_fleet(
            sandbox, tmp_path, keys_path=keys_path, stagger=False, reconcile_interval_s=60
        ):
            assert await wait_for(lambda: first_quote_saw, 10, interval=0.02)
    finally:
        del sandbox.engine.submit
    assert first_quote_saw[0] == []


async def test_an_account_with_wrong_credentials_is_set_aside_and_the_rest_quote(sandbox, tmp_path):
    ids = ["mm-anchor", "mm-l1-buy-05bps", "mm-l1-sell-05bps"]
    keys_path = await mint_keys(sandbox, tmp_path / "keys.json", ids)
    accounts = load_keys(keys_path).accounts
    minted = [(a.account_id, a.key, a.secret) for a in accounts]
    minted[1] = (minted[1][0], minted[1][1], "0" * 64)  # a secret that does not match the key
    write_keys(keys_path, sandbox.base_url, minted)
    async with running_fleet(sandbox, tmp_path, keys_path=keys_path, stagger=False) as handle:
        fleet = handle.fleet
        assert list(fleet.set_aside) == ["mm-l1-buy-05bps"]
        quoting = [handle.account_names[i] for i in ("mm-anchor", "mm-l1-sell-05bps")]
        assert await wait_for(
            lambda: all(sandbox.engine.open_orders(name) for name in quoting), 10, interval=0.05
        )
        async with httpx.AsyncClient() as http:
            status = await http.get(f"{fleet.status_url}/status")
        assert status.status_code == 503
        doc = status.json()
        assert any("mm-l1-buy-05bps" in p for p in doc["problems"])
        row = next(a for a in doc["accounts"] if a["account"] == "mm-l1-buy-05bps")
        assert "Signature" in row["set_aside"] or "-1022" in row["set_aside"]


async def test_a_stop_that_cannot_cancel_leaves_the_dead_man_armed_and_exits_1(sandbox, tmp_path):
    ids = ["mm-l1-buy-05bps", "mm-l1-sell-05bps"]
    async with running_fleet(
        sandbox, tmp_path, ids=ids, stagger=False, deadman_countdown_s=8.0,
        deadman_heartbeat_s=1.0,
    ) as handle:  # fmt: skip
        assert await wait_for(lambda: sandbox.engine.open_order_count() >= 4, 10, interval=0.05)

        def refuse(*_args, **_kwargs):  # the exchange's cancels fail; everything else works
            raise SandboxError(-1001, "Internal error; unable to process your request.", 500)

        sandbox.engine.cancel_all = refuse  # type: ignore[method-assign]
        sandbox.engine.cancel = refuse  # type: ignore[method-assign]
        try:
            stopped = time.monotonic()
            code = await handle.stop_and_wait()
            stop_s = time.monotonic() - stopped
            assert code == 1
            assert stop_s <= handle.settings.stop_timeout_s + 2
            assert {item.account for item in handle.fleet.left_behind} == set(ids)
            assert sandbox.engine.open_order_count() >= 4  # nobody cancelled them ...
        finally:
            del sandbox.engine.cancel_all, sandbox.engine.cancel
        # ... and nobody disarmed the countdown: the exchange empties the book by itself.
        await eventually(lambda: sandbox.engine.open_order_count() == 0, 8.0 + 1.5)
        assert time.monotonic() - stopped <= 8.0 + 1.5
