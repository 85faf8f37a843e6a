"""`rocky-bot status`: the running daemon's /status as a table; non-zero when not healthy."""

from __future__ import annotations

import argparse
import json
import os

import httpx


def cmd_status(args: argparse.Namespace) -> int:
    url = args.url or f"http://127.0.0.1:{os.environ.get('ROCKY_METRICS_PORT', '9090')}"
    try:
        reply = httpx.get(url.rstrip("/") + "/status", timeout=5)
        doc = reply.json()
    except httpx.HTTPError as exc:
        print(f"rocky-bot status: daemon not reachable at {url}: {exc}")
        return 2
    except ValueError:
        print(f"rocky-bot status: {url}/status did not answer JSON")
        return 2
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(render_status(doc))
    return 0 if doc.get("healthy") else 1


def _cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def render_status(doc: dict) -> str:
    """The /status document as a table: one line per account, problems first."""
    lines = [
        f"healthy: {'yes' if doc['healthy'] else 'NO — ' + '; '.join(doc['problems'])}",
        *(f"warning: {w}" for w in doc.get("warnings", [])),
        f"uptime {doc['uptime_s']} s, loops {doc['loops']}, "
        f"used weight {doc['used_weight_1m']}/min, task restarts {doc['task_restarts']}",
    ]
    fleet = doc.get("fleet") or {}
    if fleet:
        lines.append(
            f"fleet: wallet {fleet['wallet']}, burn {fleet['burn_per_day']}/day, runway "
            f"{_cell(fleet['runway_h'])} h, last funding {_cell(fleet['last_funding_s_ago'])} s ago"
        )
    for symbol, f in doc["feed"].items():
        state = "live" if f["live"] else ("stale" if f["stale"] else "paused")
        lines.append(f"feed {symbol}: mid {_cell(f['mid'])} age {_cell(f['age_s'])} s {state}")
    lines.append(
        f"{'account':<22}{'role':<7}{'breaker':<10}{'orders':>6}{'position $':>12}{'cap $':>7}"
        f"{'wallet':>12}{'burn/day':>10}{'days left':>10}{'runway h':>9}  last error"
    )
    for a in doc["accounts"]:
        notional = sum(p["notional"] or 0 for p in a["positions"].values())
        wallet = _cell(a["wallet"]) + ("!" if a.get("wallet_low") else "")
        lines.append(
            f"{a['account']:<22}{a['role']:<7}{a['breaker']:<10}{a['open_orders']:>6}"
            f"{notional:>12.2f}{a['cap']:>7g}{wallet:>12}{_cell(a['burn_per_day']):>10}"
            f"{_cell(a['days_to_empty']):>10}{_cell(a.get('runway_h')):>9}  {a['last_error'] or ''}"
        )
    return "\n".join(lines)
