"""What operators read: `/metrics`, `/status` and `rocky-bot status`, from a fleet running on the
sandbox; and `rocky-bot run` as a real process that `status` calls healthy and SIGTERM stops."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fleet_harness import mint_keys, running_fleet, sandbox_feed_url
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import Response
from waiting import wait_for

from rocky_bot.keys import load_keys
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.orders import OrderRequest
from rocky_bot.sandbox.rest_gateway import FaultHooks

SYMBOLS = ("BTCUSDT", "ETHUSDT")
#: A small funnel that trades: the taker's IOC crosses the anchor and the 5-bps makers.
IDS = ["mm-anchor", "mm-l1-buy-05bps", "mm-l1-sell-05bps", "taker-1"]
#: Wallets read often, so the burn rate has samples within seconds.
QUICK = dict(balance_interval_s=0.5, taker_interval_s=0.8, taker_jitter_s=0.2)


async def wait_for_async(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(interval)
    return await predicate()


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROCKY_")}
    return {**env, **extra}


async def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 20):
    """`rocky-bot ARGS` as a real process (the status server lives in this test's event loop,
    so a blocking client in-process would deadlock it) → (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot", *args, cwd=cwd, env=env or cli_env(),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


async def scrape(url: str) -> tuple[httpx.Response, dict[tuple[str, frozenset], float]]:
    async with httpx.AsyncClient() as client:
        reply = await client.get(url + "/metrics")
    parsed = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }
    return reply, parsed


def metric(samples: dict, name: str, **labels: str) -> float | None:
    """Sum of the samples of `name` whose labels include `labels` (None: no such sample)."""
    wanted = set(labels.items())
    found = [v for (n, ls), v in samples.items() if n == name and wanted <= ls]
    return sum(found) if found else None


async def get_status(url: str) -> tuple[int, dict]:
    async with httpx.AsyncClient() as client:
        reply = await client.get(url + "/status")
    return reply.status_code, reply.json()


def account_doc(doc: dict, account: str) -> dict:
    return next(a for a in doc["accounts"] if a["account"] == account)


def secrets_of(keys_path: Path) -> list[str]:
    return [a.secret for a in load_keys(keys_path).accounts]


def ctx_of(handle, account: str):
    return next(c for c in handle.fleet.contexts if c.account_id == account)


class MarginRejects(FaultHooks):
    """The exchange answers every new order of one account with -2019 (margin insufficient)."""

    def __init__(self, account_name: str) -> None:
        self.account_name = account_name

    def reject_order(self, account: str) -> SandboxError | None:
        if account == self.account_name:
            return SandboxError(-2019, "Margin is insufficient.", 400)
        return None


# --- /metrics -----------------------------------------------------------------------------------


async def test_metrics_cover_orders_fills_api_feed_breakers_positions_loops_and_wallets(
    sandbox, tmp_path
):
    async with running_fleet(sandbox, tmp_path, ids=IDS, **QUICK) as handle:
        taker = ctx_of(handle, "taker-1")
        url = handle.fleet.status_url

        async def two_taker_orders() -> bool:  # one order may fill against several makers
            _, seen = await scrape(url)
            key = (
                "rocky_orders_placed_total",
                frozenset({("account", "taker-1"), ("role", "taker")}),
            )
            return seen.get(key, 0) >= 2

        assert await wait_for(lambda: taker.state.fills >= 2, 15, interval=0.05), "no taker fill"
        assert await wait_for_async(two_taker_orders, 15), "the taker never placed a second order"
        assert await wait_for(
            lambda: handle.fleet.upkeeps["taker-1"].burn_per_day() is not None, 5, interval=0.05
        )
        reply, m = await scrape(url)
        engine, names = sandbox.engine, handle.account_names
        exchange_positions = {
            (a, p.symbol): Decimal(str(p.amount))
            for a in IDS
            for p in engine.account_view(names[a]).positions
        }
        mids = {s: handle.fleet.feed.mid(s) for s in SYMBOLS}
        maker_fills = sum(ctx_of(handle, a).state.fills for a in IDS if a != "taker-1")
        reconnects = handle.fleet.feed.stats.reconnects

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert m and all(name.startswith("rocky_") for name, _ in m), sorted({n for n, _ in m})
    # orders by account and role; fills, wired from the accounts' own count
    assert metric(m, "rocky_orders_placed_total", account="mm-anchor", role="anchor") >= 2
    assert metric(m, "rocky_orders_placed_total", account="taker-1", role="taker") >= 2
    assert metric(m, "rocky_fills_total", account="taker-1", role="taker") >= 2
    # every taker fill met a maker of this funnel: their fills are counted too
    makers = ("mm-anchor", "mm-l1-buy-05bps", "mm-l1-sell-05bps")
    assert sum(metric(m, "rocky_fills_total", account=a) or 0 for a in makers) == maker_fills
    assert maker_fills >= 1
    # the REST side: requests by endpoint, used weight
    assert metric(m, "rocky_api_requests_total", endpoint="/fapi/v1/order", method="POST") >= 4
    assert metric(m, "rocky_api_requests_total", endpoint="/fapi/v1/openOrders") >= 1
    assert metric(m, "rocky_used_weight_1m") > 0
    # the feed
    for symbol in SYMBOLS:
        assert 0 <= metric(m, "rocky_feed_age_seconds", symbol=symbol) < 1.5
    assert metric(m, "rocky_feed_reconnects") == reconnects == 0  # a healthy run: none
    # breakers: one series per account, all closed
    for account in IDS:
        assert metric(m, "rocky_breaker_open", account=account) == 0
        assert metric(m, "rocky_position_cap_usd", account=account) == 150
        assert metric(m, "rocky_wallet", account=account) > 0
        for symbol in SYMBOLS:  # |position·mid|, the position as the exchange has it
            expected = abs(exchange_positions.get((account, symbol), Decimal(0)) * mids[symbol])
            notional = metric(m, "rocky_position_notional_usd", account=account, symbol=symbol)
            assert notional == pytest.approx(float(expected), rel=0.01, abs=0.01), account
    assert metric(m, "rocky_position_notional_usd", account="taker-1") > 0
    # loop iteration latency, observed per iteration by role
    for role in ("anchor", "ladder", "taker"):
        count = metric(m, "rocky_loop_iteration_seconds_count", role=role)
        assert count and count >= 1, role
        assert metric(m, "rocky_loop_iteration_seconds_sum", role=role) > 0
    # the taker pays fees on every fill: its wallet burns, and the days left follow from it
    burn = metric(m, "rocky_wallet_burn_per_day", account="taker-1")
    assert burn > 0
    days = metric(m, "rocky_wallet_days_to_empty", account="taker-1")
    wallet = metric(m, "rocky_wallet", account="taker-1")
    assert days == pytest.approx(wallet / burn, rel=0.05)
    assert not any(secret in reply.text for secret in secrets_of(handle.keys_path))


async def test_rejections_api_errors_and_an_open_breaker_show_in_metrics_status_and_cli(
    sandbox, tmp_path
):
    async with running_fleet(sandbox, tmp_path, ids=IDS, **QUICK) as handle:
        url = handle.fleet.status_url
        victim = "mm-l1-buy-05bps"
        sandbox.faults = MarginRejects(handle.account_names[victim])
        ctx = ctx_of(handle, victim)
        # the maker places again on each iteration; three -2019s in a minute trip its breaker
        for loop in handle.fleet.loops:
            loop.wake()
        assert await wait_for(lambda: ctx.breaker.state.value == "open", 15, interval=0.05), (
            ctx.breaker.state
        )
        _, m = await scrape(url)
        code, doc = await get_status(url)
        cli_code, out, _ = await run_cli("status", "--url", url, cwd=tmp_path)
        sandbox.faults = FaultHooks()

    role = dict(account=victim, role="ladder")
    assert metric(m, "rocky_orders_rejected_total", **role, reason="code_-2019") >= 3
    assert metric(m, "rocky_api_errors_total", endpoint="/fapi/v1/order", code="-2019") >= 3
    assert metric(m, "rocky_breaker_open", account=victim) == 1
    assert metric(m, "rocky_breaker_open", account="mm-anchor") == 0
    assert code == 503 and not doc["healthy"]
    assert any(p.startswith("breakers open: ") and victim in p for p in doc["problems"])
    victim_doc = account_doc(doc, victim)
    assert victim_doc["breaker"] == "open"
    assert "-2019" in victim_doc["last_error"]
    assert account_doc(doc, "mm-anchor")["last_error"] is None
    assert cli_code == 1
    assert "breakers open" in out and victim in out


class OpenOrdersDown(FaultHooks):
    """The exchange's openOrders endpoint answers 503 with no Binance body."""

    async def before_request(self, scope) -> Response | None:
        if scope["method"] == "GET" and scope["path"] == "/fapi/v1/openOrders":
            return Response("upstream busy", 503)
        return None


async def test_http_failures_are_counted_by_endpoint_and_status_successes_are_not(
    sandbox, tmp_path
):
    keys_path = await mint_keys(sandbox, tmp_path / "keys.json", ["mm-anchor"])
    name = sandbox.keys.get(load_keys(keys_path).accounts[0].key).account
    sandbox.engine.submit(  # an earlier run's leftover: set-up cancels it with allOpenOrders
        name, OrderRequest("BTCUSDT", "BUY", "LIMIT", Decimal("0.001"), Decimal("90000"), "GTC")
    )
    async with running_fleet(sandbox, tmp_path, keys_path=keys_path, reconcile_interval_s=0.3) as h:
        sandbox.faults = OpenOrdersDown()

        async def counted() -> bool:
            _, m = await scrape(h.fleet.status_url)
            errors = metric(m, "rocky_api_errors_total", endpoint="/fapi/v1/openOrders")
            return bool(errors)

        assert await wait_for_async(counted, 5)
        _, m = await scrape(h.fleet.status_url)
        sandbox.faults = FaultHooks()
    # DELETE allOpenOrders answers {"code": 200, "msg": ...}: a success, not an error
    cancel_all = dict(endpoint="/fapi/v1/allOpenOrders")
    assert metric(m, "rocky_api_requests_total", **cancel_all, method="DELETE") >= 1
    assert metric(m, "rocky_api_errors_total", **cancel_all) is None
    labels = dict(endpoint="/fapi/v1/openOrders")
    assert metric(m, "rocky_api_errors_total", **labels, code="http_503") >= 1
    assert metric(m, "rocky_api_requests_total", **labels, method="GET") >= metric(
        m, "rocky_api_errors_total", **labels
    )


# --- /status ------------------------------------------------------------------------------------


async def test_status_document_matches_the_exchange(sandbox, tmp_path):
    async with running_fleet(sandbox, tmp_path, ids=IDS, **QUICK) as handle:
        url = handle.fleet.status_url
        names = handle.account_names
        engine = sandbox.engine
        taker = ctx_of(handle, "taker-1")
        assert await wait_for(lambda: taker.state.fills >= 2, 15, interval=0.05)
        assert await wait_for(
            lambda: handle.fleet.upkeeps["taker-1"].burn_per_day() is not None, 5, interval=0.05
        )

        async def open_orders_agree() -> bool:
            _, doc = await get_status(url)
            return all(
                account_doc(doc, a)["open_orders"] == len(engine.open_orders(names[a])) for a in IDS
            )

        assert await wait_for_async(open_orders_agree, 10)

        async def wallets_agree() -> bool:  # the wallet follows the exchange's, fees and all
            _, doc = await get_status(url)
            return all(
                Decimal(account_doc(doc, a)["wallet"])
                == engine.account_view(names[a]).wallet_balance
                for a in IDS
            )

        assert await wait_for_async(wallets_agree, 10)
        async with httpx.AsyncClient() as client:
            reply = await client.get(url + "/status")
        code, doc, raw = reply.status_code, reply.json(), reply.text

    assert doc["problems"] == [] and doc["healthy"] and code == 200
    assert doc["loops"] == len(IDS) * len(SYMBOLS)
    for symbol in SYMBOLS:
        feed = doc["feed"][symbol]
        assert feed["live"] and 0 <= feed["age_s"] < 1.5
        assert Decimal(feed["mid"]) == pytest.approx(
            sandbox.prices.mid(symbol), rel=Decimal("0.002")
        )
    roles = {a["account"]: a["role"] for a in doc["accounts"]}
    assert roles == {
        "mm-anchor": "anchor",
        "mm-l1-buy-05bps": "ladder",
        "mm-l1-sell-05bps": "ladder",
        "taker-1": "taker",
    }
    for a in doc["accounts"]:
        assert a["breaker"] == "closed" and a["last_error"] is None
        assert set(a["positions"]) == set(SYMBOLS) and a["cap"] == 150
    taker_doc = account_doc(doc, "taker-1")
    assert taker_doc["fills"] >= 2
    exchange_btc = next(
        (
            p.amount
            for p in engine.account_view(names["taker-1"]).positions
            if p.symbol == "BTCUSDT"
        ),
        Decimal(0),
    )
    assert Decimal(taker_doc["positions"]["BTCUSDT"]["amount"]) == exchange_btc
    assert taker_doc["burn_per_day"] > 0  # taker fees leave the wallet on every fill
    wallet = float(taker_doc["wallet"])
    assert taker_doc["days_to_empty"] == pytest.approx(
        wallet / taker_doc["burn_per_day"], rel=0.05, abs=0.01
    )
    assert not any(secret in raw for secret in secrets_of(handle.keys_path))


# --- rocky-bot status ---------------------------------------------------------------------------


async def test_status_command_prints_a_table_exits_0_when_healthy_and_2_when_unreachable(
    sandbox, tmp_path
):
    async with running_fleet(sandbox, tmp_path, ids=IDS) as handle:
        url = handle.fleet.status_url
        code, out, err = await run_cli("status", "--url", url, cwd=tmp_path)
        json_code, json_out, _ = await run_cli("status", "--url", url, "--json", cwd=tmp_path)
        # the default URL is 127.0.0.1:$ROCKY_METRICS_PORT
        port = url.rsplit(":", 1)[1]
        env_code, env_out, _ = await run_cli(
            "status", cwd=tmp_path, env=cli_env(ROCKY_METRICS_PORT=port)
        )
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == "healthy: yes"
    for symbol in SYMBOLS:
        assert any(line.startswith(f"feed {symbol}: mid ") and "live" in line for line in lines)
    header = next(line for line in lines if line.startswith("account"))
    for column in ("role", "breaker", "orders", "position $", "wallet", "burn/day", "days left"):
        assert column in header
    for account in IDS:
        row = next(line for line in lines if line.startswith(account + " "))
        assert "closed" in row
    assert json_code == 0 and json.loads(json_out)["healthy"] is True
    assert env_code == 0 and env_out.startswith("healthy: yes")

    # the daemon is gone: its port no longer answers
    code, out, err = await run_cli("status", "--url", url, cwd=tmp_path)
    assert code == 2
    assert "not reachable" in out + err


async def test_status_command_exits_1_while_the_feed_is_frozen_and_0_once_it_recovers(
    sandbox, tmp_path
):
    async with running_fleet(sandbox, tmp_path, ids=IDS) as handle:
        url = handle.fleet.status_url
        sandbox.prices.frozen = True
        assert await wait_for(lambda: not handle.fleet.feed.is_live("BTCUSDT"), 5, interval=0.05)
        code, out, _ = await run_cli("status", "--url", url, cwd=tmp_path)
        _, m = await scrape(url)
        sandbox.prices.frozen = False
        assert await wait_for(
            lambda: all(handle.fleet.feed.is_live(s) for s in SYMBOLS), 5, interval=0.05
        )
        code_after, out_after, _ = await run_cli("status", "--url", url, cwd=tmp_path)
    assert code == 1
    assert out.splitlines()[0].startswith("healthy: NO — feed not live: BTCUSDT, ETHUSDT")
    assert "stale" in out
    assert metric(m, "rocky_feed_age_seconds", symbol="BTCUSDT") > 1.5
    # makers pulled their quotes from a stale mid, and the cancels are counted by reason
    assert metric(m, "rocky_orders_cancelled_total", account="mm-anchor") >= 1
    assert code_after == 0, out_after


async def test_status_command_exits_1_when_a_loop_is_dead(sandbox, tmp_path):
    async with running_fleet(sandbox, tmp_path, ids=IDS) as handle:
        url = handle.fleet.status_url
        name = "ladder[mm-l1-buy-05bps,ETHUSDT]"
        task = next(t for t in asyncio.all_tasks() if t.get_name() == name)
        task.cancel()  # the loop's task is gone, as after an unhandled crash of its supervisor
        await asyncio.gather(task, return_exceptions=True)
        code, out, _ = await run_cli("status", "--url", url, cwd=tmp_path)
        status_code, doc = await get_status(url)
    assert status_code == 503
    assert doc["problems"] == [f"loops dead: {name}"]
    assert code == 1
    assert f"loops dead: {name}" in out.splitlines()[0]


# --- the real process -----------------------------------------------------------------------------


async def test_rocky_bot_run_process_is_healthy_then_stops_on_sigterm_with_exit_0(
    sandbox, tmp_path
):
    keys_path = await mint_keys(sandbox, tmp_path / "keys.json", IDS)
    env = cli_env(
        ROCKY_FEED_URL=sandbox_feed_url(sandbox), ROCKY_METRICS_PORT="0",
        ROCKY_LOG_FORMAT="json", ROCKY_LOG_LEVEL="info", ROCKY_ANCHOR_INTERVAL_S="0.3",
        ROCKY_LADDER_INTERVAL_S="0.4", ROCKY_LADDER_JITTER_S="0.1", ROCKY_STAGGER="false",
        ROCKY_FEED_STALE_S="1.5",
        ROCKY_RUNWAY_ALERT_H="0",  # seconds of fees, extrapolated, are no runway to judge
    )  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot", "run", "--keys", str(keys_path), cwd=tmp_path,
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[dict] = []
    try:

        async def until(event: str) -> dict:
            while True:
                raw = await proc.stderr.readline()
                assert raw, f"daemon exited before {event}: {lines[-5:]}"
                line = json.loads(raw)  # every line is one JSON object
                lines.append(line)
                if line["event"] == event:
                    return line

        listening = await asyncio.wait_for(until("status_server_listening"), 20)
        url = listening["url"].removesuffix("/status")
        await asyncio.wait_for(until("fleet_ready"), 20)
        code, out, err = await run_cli("status", "--url", url, cwd=tmp_path)
        assert code == 0, out + err
        assert out.startswith("healthy: yes")
        assert sandbox.engine.open_order_count() > 0

        proc.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0
        lines += [json.loads(line) for line in rest.decode().splitlines() if line.strip()]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    events = [line["event"] for line in lines]
    assert "fleet_stopped" in events
    assert sandbox.engine.open_order_count() == 0
    # the port is closed once the daemon is gone
    code, _, _ = await run_cli("status", "--url", url, cwd=tmp_path)
    assert code == 2
