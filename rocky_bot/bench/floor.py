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
- **The fleet's pattern**: the bench's feed with each client's request started from the read
  callback at the bench's median request rate (`--bench` reports), as a band exit starts a
  requote; its CPU over the order actions' rate is the floor per order action. A lower bound:
  it leaves out the user stream's event after each action, the loops, timers and logs.

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
from rocky_bot.bench.run import write
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


async def _ticks(
    ports: dict[str, int], count: int, batch: int, on_message: Callable[[bytes], None]
) -> None:
    """`count` tick frames over websockets, `batch` together, 2 every `PACE_S` on average."""
    rate = TICKS_A_READ / PACE_S
    uri = f"ws://127.0.0.1:{ports['ws']}/ticks?rate={rate}&count={count}&batch={batch}"
    factory = functools.partial(DirectConnection, on_message=on_message)
    async with connect(uri, create_connection=factory, compression=None) as ws:
        await ws.wait_closed()


async def feed_cpu_us(ports: dict[str, int], how: str, count: int, batch: int) -> float:
    """CPU µs per tick frame, `batch` frames sent together, 2 every `PACE_S` on average."""
    start = time.process_time()
    if how == "tcp":
        reader, writer = await asyncio.open_connection("127.0.0.1", ports["tcp"])
        writer.write(f"{TICKS_A_READ / PACE_S} {count} {batch}\n".encode())
        while await reader.read(1 << 16):
            pass
        writer.close()
        return (time.process_time() - start) / count * 1e6
    seen = 0

    def on_message(_: bytes) -> None:
        nonlocal seen
        seen += 1

    await _ticks(ports, count, batch, on_message)
    if seen != count:
        raise RuntimeError(f"floor: {seen} of {count} ticks arrived")
    return (time.process_time() - start) / count * 1e6


async def fleet_pattern_cpu_pct(
    ports: dict[str, int], call: Call, count: int, requests_per_s: float
) -> float:
    """CPU, % of a core, of the bench's feed (2 frames every 10 ms) with `call` started from
    the read callback `requests_per_s` times a second, as a band exit starts a requote."""
    per_frame, credit = requests_per_s * PACE_S / TICKS_A_READ, 0.0
    calls: set[asyncio.Task[object]] = set()

    def on_message(_: bytes) -> None:
        nonlocal credit
        credit += per_frame
        if credit >= 1.0:
            credit -= 1.0
            task = asyncio.ensure_future(call())
            calls.add(task)
            task.add_done_callback(calls.discard)

    start, began = time.process_time(), time.perf_counter()
    await _ticks(ports, count, TICKS_A_READ, on_message)
    await asyncio.gather(*calls)
    return (time.process_time() - start) / (time.perf_counter() - began) * 100


def bench_rates(bench: list[dict[str, Any]]) -> dict[str, float]:
    """The bench reports' medians: what the fleet does a second, and what it cost."""
    med = statistics.median
    return {
        "requests_per_s": round(med(r["requests_per_min"] for r in bench) / 60, 2),
        "order_actions_per_s": round(
            med(sum(r["order_actions_per_min"].values()) for r in bench) / 60, 2
        ),
        "ticks_per_s": med(sum(r["ticks_per_s"].values()) for r in bench),
        "fleet_cpu_pct": med(r["fleet_cpu_pct"] for r in bench),
        "cpu_ms_per_order_action": med(r["cpu_ms_per_order_action"] for r in bench),
    }


def floor_of(pattern_cpu_pct: float, feed_us: float, rates: dict[str, float]) -> dict[str, float]:
    """The libraries' CPU at the bench's rates, per order action, and per request over the feed."""
    ms_per_s = pattern_cpu_pct * 10
    feed_ms_per_s = feed_us * rates["ticks_per_s"] / 1000
    return {
        "cpu_pct": round(pattern_cpu_pct, 2),
        "cpu_ms_per_order_action": round(ms_per_s / rates["order_actions_per_s"], 2),
        "feed_cpu_pct": round(feed_ms_per_s / 10, 2),
        "request_us_over_the_feed": round(
            (ms_per_s - feed_ms_per_s) * 1000 / rates["requests_per_s"], 1
        ),
    }


async def measure(
    ports: dict[str, int], *, rounds: int, n: int, ticks: int, requests_per_s: float
) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        cases = await request_cases(ports["http"], stack)
        return await _measure(cases, ports, rounds, n, ticks, requests_per_s)


async def _measure(
    cases: dict[str, Call],
    ports: dict[str, int],
    rounds: int,
    n: int,
    ticks: int,
    requests_per_s: float,
) -> dict[str, Any]:
    requests = {c: {"hot": [], "paced": [], "fleet_pattern_pct": []} for c in cases}
    feed: dict[str, list[float]] = {"tcp_read": [], "websockets": [], "websockets_100_a_read": []}
    for _ in range(rounds):
        for name, call in cases.items():
            requests[name]["hot"].append(await cpu_us_per_call(call, 2 * n, 0.0))
            requests[name]["paced"].append(await cpu_us_per_call(call, n, PACE_S))
            requests[name]["fleet_pattern_pct"].append(
                await fleet_pattern_cpu_pct(ports, call, 2 * ticks, requests_per_s)
            )
        feed["tcp_read"].append(await feed_cpu_us(ports, "tcp", ticks, TICKS_A_READ))
        feed["websockets"].append(await feed_cpu_us(ports, "ws", ticks, TICKS_A_READ))
        feed["websockets_100_a_read"].append(await feed_cpu_us(ports, "ws", ticks, 100))

    def summary(samples: list[float]) -> dict[str, Any]:
        return {"median": round(statistics.median(samples), 2),
                "rounds": [round(s, 2) for s in samples]}  # fmt: skip

    return {
        "request_cpu_us": {c: {k: summary(v) for k, v in r.items()} for c, r in requests.items()},
        "tick_cpu_us": {k: summary(v) for k, v in feed.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rocky_bot.bench.floor")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bench", default="docs/bench/ours-seed*.json", help="reports to price")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300, help="paced calls a round and case")
    parser.add_argument("--ticks", type=int, default=1000, help="frames a round and case")
    args = parser.parse_args(argv)
    bench = [json.loads(Path(p).read_text()) for p in sorted(glob.glob(args.bench))]
    if not bench:
        raise SystemExit(f"floor: no bench report matches {args.bench}")
    rates = bench_rates(bench)
    server = subprocess.Popen(
        [sys.executable, "-m", "rocky_bot.bench.floor_server"], stdout=subprocess.PIPE, text=True
    )
    try:
        ports = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        found = uvloop.run(measure(
            ports, rounds=args.rounds, n=args.requests, ticks=args.ticks,
            requests_per_s=rates["requests_per_s"],
        ))  # fmt: skip
    finally:
        server.kill()
        server.wait()
    feed_us = found["tick_cpu_us"]["websockets"]["median"]
    floors = {name: floor_of(row["fleet_pattern_pct"]["median"], feed_us, rates)
              for name, row in found["request_cpu_us"].items()}  # fmt: skip
    doc = {
        "command": f"uv run --with {AIOHTTP} python -m rocky_bot.bench.floor --out {args.out}",
        "pace_s": PACE_S, "ticks_a_read": TICKS_A_READ, "tick_bytes": len(TICK),
        "rounds": args.rounds, "machine": machine_info(), "bench": rates | {"reports": len(bench)},
        **found, "floor_at_bench_rates": floors,
    }  # fmt: skip
    write(doc, args.out)
    for name, row in found["request_cpu_us"].items():
        print(f"{name:18s} hot {row['hot']['median']:7.1f} µs  every {PACE_S * 1000:g} ms "
              f"{row['paced']['median']:7.1f} µs  at the bench's rates {floors[name]}")  # fmt: skip
    for name, row in found["tick_cpu_us"].items():
        print(f"tick {name:22s} {row['median']:7.1f} µs")
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
