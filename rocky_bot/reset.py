"""`rocky-bot reset`: cancel every open order of every account; `--flatten` also closes positions.

For ops after an incident or before a redeploy. Exits non-zero if any account could not be reset,
so a script or a person sees at once that something is still live.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass

from rocky_bot.cli import load_settings
from rocky_bot.exchange.client import ExchangeClient
from rocky_bot.exchange.errors import ExchangeError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Side
from rocky_bot.exchange.paths import ApiPaths
from rocky_bot.keys import AccountKeys, KeysFile, load_keys
from rocky_bot.settings import Settings


@dataclass
class ResetResult:
    account_id: str
    cancelled: int = 0
    closed: int = 0
    error: str | None = None


async def reset_account(
    settings: Settings,
    keys: KeysFile,
    account: AccountKeys,
    governor: WeightGovernor,
    flatten: bool,
) -> ResetResult:
    result = ResetResult(account.account_id)
    client = ExchangeClient(
        keys.base_url, account.key, account.secret, account=account.account_id,
        governor=governor,
        paths=ApiPaths(balance=settings.balance_path, position_risk=settings.position_risk_path),
        recv_window_ms=settings.recv_window_ms, timeout_s=settings.request_timeout_s,
    )  # fmt: skip
    try:
        await client.sync_time()
        for symbol in settings.symbols:
            orders = await client.open_orders(symbol)
            if orders:
                await client.cancel_all_orders(symbol)
                result.cancelled += len(orders)
        if flatten:
            for position in await client.position_risk():
                if position.amount == 0 or position.symbol not in settings.symbols:
                    continue
                side = Side.SELL if position.amount > 0 else Side.BUY
                await client.place_order(
                    symbol=position.symbol, side=side, qty=abs(position.amount), price=None,
                    client_order_id=f"rbreset-{account.account_id[:20]}-{position.symbol[:3]}",
                    order_type="MARKET", reduce_only=True,
                )  # fmt: skip
                result.closed += 1
        left = sum([len(await client.open_orders(s)) for s in settings.symbols])
        if left:
            result.error = f"{left} orders still open"
        if flatten:
            still = [p for p in await client.position_risk() if p.amount != 0]
            if still:
                result.error = f"{len(still)} positions still open"
    except ExchangeError as exc:
        result.error = str(exc)
    finally:
        await client.aclose()
    return result


def cmd_reset(args: argparse.Namespace) -> int:
    settings = load_settings(keys_path=args.keys)
    keys = load_keys(settings.keys_path, allow_public_exchange=settings.allow_public_exchange)
    what = "cancel every open order" + (" and close every position" if args.flatten else "")
    if not args.yes:
        if not sys.stdin.isatty():
            print("rocky-bot reset: refusing without --yes when not on a terminal", file=sys.stderr)
            return 2
        answer = input(f"{what} of {len(keys.accounts)} accounts on {keys.base_url}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing done")
            return 1

    async def all_accounts() -> list[ResetResult]:
        governor = WeightGovernor(limit_per_min=settings.weight_limit_per_min)
        return await asyncio.gather(
            *(reset_account(settings, keys, a, governor, args.flatten) for a in keys.accounts)
        )

    results = asyncio.run(all_accounts())
    width = max(len(r.account_id) for r in results)
    print(f"{'account':<{width}}  cancelled  closed  result")
    for r in results:
        print(f"{r.account_id:<{width}}  {r.cancelled:>9}  {r.closed:>6}  {r.error or 'ok'}")
    failed = [r for r in results if r.error]
    if failed:
        print(f"{len(failed)} account(s) could not be reset", file=sys.stderr)
        return 1
    return 0
