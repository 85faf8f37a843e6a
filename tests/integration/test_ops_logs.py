"""Logs as journald gets them from a fleet on the sandbox: one JSON object per line (libraries'
records too), account/symbol/role on what the loops do, a periodic `fleet_summary` with the book
and the fills since the last one, `wallet_low` for a drained account, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import re

import httpx
import pytest
import structlog
from fleet_harness import mint_keys, running_fleet
from waiting import wait_for

from rocky_bot.keys import load_keys
from rocky_bot.ops.logs import configure_logging

IDS = ["mm-anchor", "mm-l1-buy-05bps", "mm-l1-sell-05bps", "taker-1"]
SYMBOLS = ("BTCUSDT", "ETHUSDT")


def records(buffer: io.StringIO) -> list[dict]:
    lines = buffer.getvalue().splitlines()
    parsed = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    assert all(isinstance(p, dict) for p in parsed)
    return parsed


def events(buffer: io.StringIO, name: str) -> list[dict]:
    return [r for r in records(buffer) if r.get("event") == name]


async def test_one_json_object_per_line_with_account_symbol_role_and_a_periodic_summary(
    sandbox, tmp_path, journal
):
    async with running_fleet(
        sandbox, tmp_path, ids=IDS, summary_interval_s=0.4, taker_interval_s=0.6,
        taker_jitter_s=0.1, balance_interval_s=0.5,
    ) as handle:  # fmt: skip
        taker = next(c for c in handle.fleet.contexts if c.account_id == "taker-1")
        assert await wait_for(lambda: taker.state.fills >= 2, 15, interval=0.05)
        fills_seen = sum(c.state.fills for c in handle.fleet.contexts)
        assert await wait_for(
            lambda: (
                sum(s["fills_since_last"] for s in events(journal, "fleet_summary")) >= fills_seen
            ),
            5,
            interval=0.05,
        )
        assert await wait_for(lambda: len(events(journal, "fleet_summary")) >= 2, 5, interval=0.05)
        logging.getLogger("websockets.client").warning("library record")  # a library, via stdlib
        async with httpx.AsyncClient() as client:  # status and metrics are read meanwhile
            status = (await client.get(handle.fleet.status_url + "/status")).text
            metrics = (await client.get(handle.fleet.status_url + "/metrics")).text
        total_fills = sum(c.state.fills for c in handle.fleet.contexts)

    logged = records(journal)
    assert len(logged) > 20
    for r in logged:
        assert {"event", "level", "timestamp"} <= r.keys(), r
    # what the loops do names the account, the symbol and the role
    orders = [r for r in logged if r["event"] in ("order_placed", "order_modified")]
    assert {r["account"] for r in orders} >= {"mm-anchor", "taker-1"}
    for r in orders:
        assert r["account"] in IDS and r["symbol"] in SYMBOLS, r
        # placements are facts for the journal; routine requotes (~20/s) are debug detail
        assert r["level"] == ("info" if r["event"] == "order_placed" else "debug"), r
        assert r["role"] in ("anchor", "ladder", "taker"), r
    assert {r["role"] for r in orders if r["account"] == "taker-1"} == {"taker"}
    # set-up lines name their account too
    setup = [r for r in logged if r["event"] == "user_stream_connected"]
    assert {r.get("account") for r in setup} == set(IDS)

    summaries = [r for r in logged if r["event"] == "fleet_summary"]
    assert len(summaries) >= 2
    for s in summaries:
        assert s["level"] == "info"
        assert set(s["book"]) == set(SYMBOLS)
        for side in s["book"].values():
            assert {"mid", "bids", "asks", "best_bid", "best_ask", "spread_bps"} <= side.keys()
    last = summaries[-1]["book"]["BTCUSDT"]
    assert last["bids"] >= 1 and last["asks"] >= 1
    assert float(last["best_bid"]) < float(last["mid"]) < float(last["best_ask"])
    since = [s["fills_since_last"] for s in summaries]
    assert all(n >= 0 for n in since) and sum(since) >= 2
    assert sum(since) == summaries[-1]["fills_total"] <= total_fills  # the deltas add up

    library = [r for r in logged if r["event"] == "library record"]
    assert (
        library and library[0]["level"] == "warning" and library[0]["logger"] == "websockets.client"
    )

    secrets = [a.secret for a in load_keys(handle.keys_path).accounts]
    for text in (journal.getvalue(), status, metrics):
        assert not any(secret in text for secret in secrets)


async def test_a_wallet_under_20_percent_of_its_seed_is_warned_about_and_shown(
    sandbox, tmp_path, journal
):
    keys_path = await mint_keys(sandbox, tmp_path / "keys.json", ["mm-anchor"], amount=100)
    poor = await mint_keys(sandbox, tmp_path / "poor.json", ["taker-1"], amount=15)
    both = json.loads(keys_path.read_text())
    both["accounts"] += json.loads(poor.read_text())["accounts"]
    keys_path.write_text(json.dumps(both))
    async with (
        running_fleet(sandbox, tmp_path, keys_path=keys_path) as handle,
        httpx.AsyncClient() as client,
    ):
        doc = (await client.get(handle.fleet.status_url + "/status")).json()

    low = events(journal, "wallet_low")
    assert [r["account"] for r in low] == ["taker-1"]  # once, for the drained account only
    assert low[0]["level"] == "warning"
    assert float(low[0]["wallet"]) == 15 and float(low[0]["floor"]) == 20
    assert "rocky-bot fund" in low[0]["hint"]
    flags = {a["account"]: a["wallet_low"] for a in doc["accounts"]}
    assert flags == {"mm-anchor": False, "taker-1": True}
    assert doc["warnings"] == ["wallets under 20: taker-1"]
    assert doc["healthy"]  # a low wallet is a warning, not an outage


def test_auto_format_is_json_off_a_terminal_and_readable_on_one(journal):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    configure_logging("auto", "info", stream=terminal)
    structlog.get_logger().info("order_placed", account="mm-anchor", symbol="BTCUSDT")
    line = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue()).strip()  # colours off
    assert "order_placed" in line and "account=mm-anchor" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)

    configure_logging("auto", "info", stream=journal)
    structlog.get_logger().info("order_placed", account="mm-anchor", symbol="BTCUSDT")
    logging.getLogger("httpx").info("HTTP Request: GET ...")  # per-request chatter: dropped
    (record,) = [r for r in records(journal) if r["event"].startswith(("order_placed", "HTTP"))]
    assert record == {**record, "event": "order_placed", "level": "info", "account": "mm-anchor"}
