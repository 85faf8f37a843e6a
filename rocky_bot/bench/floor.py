"""The floor under issue 14's CPU targets: what one request and one feed message cost on this
machine in the libraries themselves, before any code of ours runs.

    uv run --with aiohttp==3.14.3 python -m rocky_bot.bench.floor --out docs/bench/extra/floor.json

Why: the fleet spends ~5 ms of CPU per order action against a target of 1 ms (README, "Where
the CPU goes"). This says how much of that no code of ours can win back: the same client calls
the fleet makes, against a server process (`floor_server`) that does nothing but answer, timed
in CPU (`time.process_time`) of this process.

- **Two cadences.** Back to back (the loop never sleeps: caches and the core stay warm) and one
  call every 10 ms, which is how often the bench's feed wakes the fleet (its price driver sends
  both symbols' bookTickers together, 100 times a second). The wake-up is most of a paced
  call's cost: the paced figures are the fleet's.
- **Requests**: asyncio's streams (no HTTP library: the floor of any client), httpx's standard
  transport alone, the fleet's own path (`new_http_client`, signing, `read_reply`, as `Wire`
  sends an order), and aiohttp when it is installed (`uv run --with aiohttp`), for scale.
- **Feed messages** as the bench sends them, two every 10 ms: a plain TCP read of the same
  bytes (the wake-up alone), and websockets with the feed's `DirectConnection` (our handler a
  no-op); and, for scale, the same frames 100 to a read.
- **The implied floor**: the bench's medians (requests, order actions, feed messages a second;
  `--bench` reports) priced at the paced costs. A lower bound: it leaves out the user stream's
  event after each action, the loops, timers and logs.

Each case runs `--rounds` times, cases interleaved; the report keeps each round and the median.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import glob
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvloop
from websockets.asyncio.client import connect

from rocky_bot.bench.floor_server import TICK
from rocky_bot.bench.procs import machine_info
from rocky_bot.exchange.auth import SECURITY, SIGNED, BinanceHmacAuth, ServerClock
from rocky_bot.exchange.http_client import new_http_client, read_reply
from rocky_bot.reconnect import DirectConnection

AIOHTTP = "aiohttp==3.14.3"  # for scale, brought in by `uv run --with`
PACE_S = 0.010  # the bench feed's cadence: both symbols' ticks every 10 ms
TICKS_A_READ = 2  # ...sent together
ORDER = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&price=95000.10&quantity=0.0005"
    "&newClientOrderId=rk-floor-000001"
)
Call = Callable[[], Awaitable[object]]


async def cpu_us_per_call(call: Call, n: int, pace_s: float) -> float:
    """CPU µs per call, the mean of `n` awaited calls, each followed by a `pace_s` sleep."""
    for _ in range(10):
        await call()
    start = time.process_time()
    for _ in range(n):
        await call()
        if pace_s:
            await asyncio.sleep(pace_s)
    return (time.process_time() - start) / n * 1e6


async def request_cases(port: int, stack: contextlib.AsyncExitStack) -> dict[str, Call]:
    """One order-sized POST per call, through each client (closed by `stack`)."""
    base = f"http://127.0.0.1:{port}"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    stack.callback(writer.close)
    raw = f"POST /fapi/v1/order?{ORDER} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode()

    async def streams() -> None:
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0]))

    transport = await stack.enter_async_context(httpx.AsyncHTTPTransport())
    url = httpx.URL(f"{base}/fapi/v1/order?{ORDER}")

    async def httpx_transport() -> None:
        response = await transport.handle_async_request(httpx.Request("POST", url))
        await response.aread()
        await response.aclose()

    auth = BinanceHmacAuth("k" * 64, "s" * 64, ServerClock())
    fleet = await stack.enter_async_context(new_http_client(base, auth=auth, timeout_s=5.0))
    extensions = {"timeout": fleet.timeout.as_dict(), SECURITY: SIGNED}

    async def fleet_path() -> None:
        request = httpx.Request("POST", url, headers=fleet.headers, extensions=dict(extensions))
        await read_reply(fleet, request, max_bytes=1 << 20, deadline_s=10.0)

    cases: dict[str, Call] = {"asyncio_streams": streams, "httpx_transport": httpx_transport,
                              "fleet_http_client": fleet_path}  # fmt: skip
    try:
        import aiohttp  # for scale only, when `uv run --with aiohttp` brought it
    except ImportError:
        return cases
    session = await stack.enter_async_context(aiohttp.ClientSession())
    aio_url = aiohttp.client.URL(str(url), encoded=True)

    async def aiohttp_client() -> None:
        async with session.post(aio_url) as response:
            await response.read()

    cases["aiohttp"] = aiohttp_client
    return cases


async def feed_cpu_us(ports: dict[str, int], how: str, count: int, batch: int) -> float:
    """CPU µs per tick frame, `batch` frames sent together every `batch × PACE_S / 2` s."""
    rate = TICKS_A_READ / PACE_S
    if how == "tcp":
        reader, writer = await asyncio.open_connection("127.0.0.1", ports["tcp"])
        writer.write(f"{rate} {count} {batch}\n".encode())
        start = time.process_time()
        while await reader.read(1 << 16):
            pass
        writer.close()
        return (time.process_time() - start) / count * 1e6
    seen = 0

    def on_message(_: bytes) -> None:
        nonlocal seen
        seen += 1

    uri = f"ws://127.0.0.1:{ports['ws']}/ticks?rate={rate}&count={count}&batch={batch}"
    start = time.process_time()
    factory = functools.partial(DirectConnection, on_message=on_message)
    async with connect(uri, create_connection=factory, compression=None) as ws:
        await ws.wait_closed()
    if seen != count:
        raise RuntimeError(f"floor: {seen} of {count} ticks arrived")
    return (time.process_time() - start) / count * 1e6


def implied_floor(costs: dict[str, float], bench: list[dict[str, Any]]) -> dict[str, Any]:
    """The bench's request and tick rates priced at the paced costs: a lower bound on its CPU."""
    med = statistics.median
    requests_s = med(r["requests_per_min"] for r in bench) / 60
    actions_s = med(sum(r["order_actions_per_min"].values()) for r in bench) / 60
    ticks_s = med(sum(r["ticks_per_s"].values()) for r in bench)
    ms_per_s = (requests_s * costs["request_us"] + ticks_s * costs["tick_us"]) / 1000
    return {
        "bench_reports": len(bench), "requests_per_s": round(requests_s, 2),
        "order_actions_per_s": round(actions_s, 2), "ticks_per_s": ticks_s,
        "floor_cpu_pct": round(ms_per_s / 10, 2),
        "floor_cpu_ms_per_order_action": round(ms_per_s / actions_s, 2),
        "bench_fleet_cpu_pct": med(r["fleet_cpu_pct"] for r in bench),
        "bench_cpu_ms_per_order_action": med(r["cpu_ms_per_order_action"] for r in bench),
    }  # fmt: skip


async def measure(ports: dict[str, int], *, rounds: int, n: int, ticks: int) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        return await _measure(await request_cases(ports["http"], stack), ports, rounds, n, ticks)


async def _measure(
    cases: dict[str, Call], ports: dict[str, int], rounds: int, n: int, ticks: int
) -> dict[str, Any]:
    requests: dict[str, dict[str, list[float]]] = {c: {"hot": [], "paced": []} for c in cases}
    feed: dict[str, list[float]] = {"tcp_read": [], "websockets": [], "websockets_100_a_read": []}
    for _ in range(rounds):
        for name, call in cases.items():
            requests[name]["hot"].append(await cpu_us_per_call(call, 2 * n, 0.0))
            requests[name]["paced"].append(await cpu_us_per_call(call, n, PACE_S))
        feed["tcp_read"].append(await feed_cpu_us(ports, "tcp", ticks, TICKS_A_READ))
        feed["websockets"].append(await feed_cpu_us(ports, "ws", ticks, TICKS_A_READ))
        feed["websockets_100_a_read"].append(await feed_cpu_us(ports, "ws", ticks, 100))

    def summary(samples: list[float]) -> dict[str, Any]:
        return {"median_us": round(statistics.median(samples), 1),
                "rounds_us": [round(s, 1) for s in samples]}  # fmt: skip

    return {
        "request_cpu": {c: {k: summary(v) for k, v in cad.items()} for c, cad in requests.items()},
        "tick_cpu": {k: summary(v) for k, v in feed.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rocky_bot.bench.floor")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bench", default="docs/bench/ours-seed*.json", help="reports to price")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300, help="paced calls a round and case")
    parser.add_argument("--ticks", type=int, default=1000, help="frames a round and case")
    args = parser.parse_args(argv)
    server = subprocess.Popen(
        [sys.executable, "-m", "rocky_bot.bench.floor_server"], stdout=subprocess.PIPE, text=True
    )
    try:
        ports = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        found = uvloop.run(measure(ports, rounds=args.rounds, n=args.requests, ticks=args.ticks))
    finally:
        server.kill()
        server.wait()
    paced = {"request_us": found["request_cpu"]["fleet_http_client"]["paced"]["median_us"],
             "tick_us": found["tick_cpu"]["websockets"]["median_us"]}  # fmt: skip
    bench = [json.loads(Path(p).read_text()) for p in sorted(glob.glob(args.bench))]
    doc = {
        "command": f"uv run --with {AIOHTTP} python -m rocky_bot.bench.floor --out {args.out}",
        "pace_s": PACE_S, "ticks_a_read": TICKS_A_READ, "tick_bytes": len(TICK),
        "rounds": args.rounds,
        "machine": machine_info(), **found,
        "implied_floor": implied_floor(paced, bench) if bench else None,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    for name, row in found["request_cpu"].items():
        print(f"{name:20s} hot {row['hot']['median_us']:7.1f} µs   every {PACE_S * 1000:g} ms "
              f"{row['paced']['median_us']:7.1f} µs")  # fmt: skip
    for name, row in found["tick_cpu"].items():
        print(f"tick {name:22s} {row['median_us']:7.1f} µs")
    print(f"implied floor: {doc['implied_floor']}")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
