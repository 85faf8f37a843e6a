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


def render_status(doc: dict) -> str:
    lines = [
        f"healthy: {'yes' if doc['healthy'] else 'NO — ' + '; '.join(doc['problems'])}",
        f"uptime {doc['uptime_s']} s, loops {doc['loops']}, used weight {doc['used_weight_1m']}/min,"
        f" task restarts {doc['task_restarts']}",
    ]
    for symbol, f in doc["feed"].items():
        state = "live" if f["live"] else ("stale" if f["stale"] else "paused")
        lines.append(f"feed {symbol}: mid {f['mid']} age {f['age_s']} s {state}")
    header = (
        f"{'account':<22}{'role':<7}{'breaker':<10}{'orders':>6}  {'wallet':>10}  "
        f"{'burn/day':>9}  {'days left':>9}  last error"
    )
    lines.append(header)
    for a in doc["accounts"]:
        lines.append(
            f"{a['account']:<22}{a['role']:<7}{a['breaker']:<10}{a['open_orders']:>6}  "
            f"{a['wallet'] or '-':>10}  {a['burn_per_day'] if a['burn_per_day'] is not None else '-':>9}"
            f"  {a['days_to_empty'] if a['days_to_empty'] is not None else '-':>9}  "
            f"{a['last_error'] or ''}"
        )
    return "\n".join(lines)
