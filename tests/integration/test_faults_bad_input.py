"""Bad input: malformed exchange replies and malformed feed messages, on the live fleet.

The issue: "counted, logged once per kind per minute, never a crash, never an order decided
from them". Never a crash: the scenario's invariant 7 (no task restarted, every loop turning).
Never an order decided from them: invariants 1–3 plus the checker's price check (no order
priced more than 2 % from the exchange's mark). The parsers themselves are fuzzed in
tests/unit/exchange/test_parse_fuzz.py and the feed's handler in tests/integration/test_feed.py.
"""

from __future__ import annotations

import json
from collections import Counter

from scenario import run_scenario

MALFORMED = ["not_json", "html", "missing_field", "wrong_type"]


def events(log: str, name: str) -> list[dict]:
    found = []
    for line in log.splitlines():
        if f'"{name}"' in line:
            doc = json.loads(line)
            if doc.get("event") == name:
                found.append(doc)
    return found


async def test_malformed_exchange_replies(tmp_path):
    """20 % of replies damaged after the request was executed: a damaged order reply is looked
    up by its clientOrderId (never re-sent blindly), other reads are simply asked again."""
    seen: dict[str, int] = {}

    async def inject(inv):
        await inv.sandbox.fault_injector.apply(
            seed=9, malformed_rate=0.2, malformed_kinds=MALFORMED
        )

    async def count(handle, inv):
        seen.update(handle.fleet.reply_problems.counts)  # one tally, shared by all 30 clients

    out = await run_scenario(tmp_path, inject=inject, hold_s=5, grace_s=1.5, check=count)
    injected = {k.split(":")[1]: v for k, v in out.injected.items() if k.startswith("malformed:")}
    assert set(injected) == set(MALFORMED), injected
    assert set(seen) == {"not_json", "html", "missing_field", "wrong_type"}, seen
    logged = Counter(e["kind"] for e in events(out.log, "exchange_reply_malformed"))
    assert logged == Counter({kind: 1 for kind in seen}), logged  # once per kind per minute
    print(f"\nmalformed replies: injected {injected}, counted {seen}, "
          f"recovery {out.recovery_s:.2f}s")  # fmt: skip


async def test_malformed_feed_messages(tmp_path):
    """Half the market ticks replaced by bad frames for 4 s: counted by kind, one log line per
    kind, the mid never moved by them, and quoting carries on from the good half."""
    counted: dict[str, int] = {}

    async def inject(inv):
        await inv.sandbox.fault_injector.apply(seed=4, feed_garbage_rate=0.5)

    async def count(handle, inv):
        counted.update(handle.fleet.feed.stats.bad_messages)

    out = await run_scenario(tmp_path, inject=inject, hold_s=4, check=count)
    injected = {k.split(":")[1]: v for k, v in out.injected.items() if k.startswith("feed_garbage")}
    assert set(counted) == set(injected), (counted, injected)
    logged = Counter(e["kind"] for e in events(out.log, "feed_bad_message"))
    assert logged == Counter({kind: 1 for kind in counted}), logged
    assert '"feed_stale"' not in out.log
    print(f"\nfeed garbage: injected {injected}, counted {counted}")
