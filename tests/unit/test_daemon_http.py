"""The status server's uvicorn without its 10 Hz tick: it serves, and stops when told to."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from rocky_bot.daemon import QuietServer, start_http


def _app() -> Starlette:
    return Starlette(routes=[Route("/ping", lambda request: PlainTextResponse("pong"))])


async def test_it_serves_without_a_date_header_and_stops_at_once_when_told():
    server, task, port = await start_http(_app(), "127.0.0.1", 0)
    assert isinstance(server, QuietServer)
    async with httpx.AsyncClient() as client:
        reply = await client.get(f"http://127.0.0.1:{port}/ping")
    assert reply.text == "pong"
    assert reply.headers["server"] == "uvicorn"
    assert "date" not in reply.headers  # never a stale one: the tick that refreshed it is gone
    server.should_exit = True
    await asyncio.wait_for(task, timeout=2.0)


async def test_the_main_loop_sleeps_until_should_exit_instead_of_polling():
    server, task, _ = await start_http(_app(), "127.0.0.1", 0)
    ticks = 0
    original = server.on_tick

    async def counting(counter: int) -> bool:
        nonlocal ticks
        ticks += 1
        return await original(counter)

    server.on_tick = counting  # type: ignore[method-assign]
    await asyncio.sleep(0.35)  # uvicorn's own loop would tick three times
    assert ticks == 0
    server.should_exit = True
    await asyncio.wait_for(task, timeout=2.0)
