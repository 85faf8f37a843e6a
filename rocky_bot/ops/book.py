"""`rocky-bot book [SYMBOL]`: the exchange's depth drawn as a funnel."""

from __future__ import annotations

import argparse
import asyncio

import httpx

from rocky_bot.ops.market_view import fetch_depth, render_funnel


def cmd_book(args: argparse.Namespace) -> int:
    async def show() -> str:
        async with httpx.AsyncClient(base_url=args.base_url.rstrip("/"), timeout=10) as client:
            return render_funnel(await fetch_depth(client, args.symbol.upper(), 1000), args.depth)

    try:
        print(asyncio.run(show()))
    except httpx.HTTPStatusError as exc:
        print(f"rocky-bot book: {args.base_url}: HTTP {exc.response.status_code}")
        return 1
    except httpx.HTTPError as exc:
        print(f"rocky-bot book: {args.base_url} not reachable: {exc}")
        return 1
    return 0
