"""A fleet whose keys file carries a password in its base_url (`http://ops:PW@host`), run through
an exchange outage: neither that password nor any key, secret or the admin token shows in the
logs, /status or /metrics, even in the error lines the outage produces."""

from __future__ import annotations

import io
import json

import httpx
from fleet_harness import running_fleet
from invariants import secrets_exposed
from waiting import wait_for

from rocky_bot.keys import load_keys, write_keys
from rocky_bot.ops.onboarding import mint_accounts

IDS = ["mm-anchor", "mm-l1-buy-05bps", "taker-1"]
PASSWORD = "pw-in-the-base-url-0123456789abcdef"


def events(buffer: io.StringIO) -> list[str]:
    return [json.loads(line).get("event", "") for line in buffer.getvalue().splitlines()]


#: Any of these is a REST call failing against the downed exchange (retried, then given up).
REST_FAILURES = {"request_retried", "loop_iteration_failed", "upkeep_failed", "deadman_unavailable"}


def outage_logged(buffer: io.StringIO) -> bool:
    seen = set(events(buffer))
    return "user_stream_disconnected" in seen and bool(seen & REST_FAILURES)


async def test_no_secret_in_logs_status_or_metrics_through_an_outage(sandbox, tmp_path, journal):
    minted = await mint_accounts(sandbox.base_url, sandbox.admin_token, IDS, 100)
    with_password = sandbox.base_url.replace("http://", f"http://ops:{PASSWORD}@")
    keys_path = tmp_path / "keys.json"
    write_keys(keys_path, with_password, minted)
    assert load_keys(keys_path).base_url == with_password  # it is what the fleet connects with

    async with running_fleet(sandbox, tmp_path, keys_path=keys_path) as handle:
        streams = [unit.upkeep.stream for unit in handle.fleet.units]
        # ready does not wait for the user streams: the outage must find them connected
        assert await wait_for(lambda: all(s.connected for s in streams), 15, interval=0.05)
        await sandbox.refuse_connections()
        try:  # the outage is seen: dropped user streams and failed REST calls are logged
            seen = await wait_for(
                lambda: outage_logged(journal) and not any(s.connected for s in streams), 20,
                interval=0.05,
            )  # fmt: skip
            assert seen, sorted(set(events(journal)))
        finally:
            await sandbox.accept_connections()
        # connected again, through the URL that carries the password
        assert await wait_for(lambda: all(s.connected for s in streams), 15, interval=0.05)
        async with httpx.AsyncClient(base_url=handle.fleet.status_url, timeout=5) as http:
            served = {
                "/status": (await http.get("/status")).text,
                "/metrics": (await http.get("/metrics")).text,
            }

    secrets = [PASSWORD, sandbox.admin_token]
    secrets += [s for a in load_keys(keys_path).accounts for s in (a.key, a.secret)]
    assert secrets_exposed(secrets, {"log": journal.getvalue(), **served}) == []
