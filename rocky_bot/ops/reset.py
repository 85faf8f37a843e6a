"""`rocky-bot reset`: cancel every open order of every account; `--flatten` also closes positions.

For ops after an incident or before a redeploy. Exits non-zero if any account could not be reset,
so a script or a person sees at once that something is still live.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from dataclasses import dataclass

from rocky_bot.exchange.errors import ExchangeError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Side
from rocky_bot.fleet.build import client_for
from rocky_bot.keys import AccountKeys, KeysFile, load_keys
from rocky_bot.ops.logs import configure_logging
from rocky_bot.settings import Settings, load_settings


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
    run_id: str = "",
) -> ResetResult:
    """Cancel every open order of the account (every symbol, not only the fleet's), and with
    `flatten` close every position with a reduceOnly MARKET order; then read both back from the
    exchange: the result says what is still live, never what we merely asked for."""
    result = ResetResult(account.account_id)
    client = client_for(settings, keys.base_url, account, governor)
    run_id = run_id or secrets.token_hex(3)
    try:
        await client.sync_time()
        orders = await client.open_orders()
        for symbol in sorted({o.symbol for o in orders}):
            await client.cancel_all_orders(symbol)
        result.cancelled = len(orders)
        if flatten:
            for position in await client.position_risk():
                if position.amount == 0:
                    continue
                side = Side.SELL if position.amount > 0 else Side.BUY
                await client.place_order(
                    symbol=position.symbol, side=side, qty=abs(position.amount), price=None,
                    client_order_id=f"rbreset-{run_id}-{result.closed}",
                    order_type="MARKET", reduce_only=True,
                )  # fmt: skip
                result.closed += 1
        problems = []
        if left := len(await client.open_orders()):
            problems.append(f"{left} orders still open")
        if flatten:
            still = [p.symbol for p in await client.position_risk() if p.amount != 0]
            if still:
                problems.append(f"positions still open: {', '.join(still)}")
        result.error = "; ".join(problems) or None
    except ExchangeError as exc:
        result.error = str(exc)
    finally:
        await client.aclose()
    return result


def render_results(results: list[ResetResult]) -> str:
    width = max([len("account"), *(len(r.account_id) for r in results)])
    lines = [f"{'account':<{width}}  cancelled  closed  result"]
    for r in results:
        lines.append(f"{r.account_id:<{width}}  {r.cancelled:>9}  {r.closed:>6}  {r.error or 'ok'}")
    return "\n".join(lines)


def cmd_reset(args: argparse.Namespace) -> int:
    settings = load_settings(keys_path=args.keys)
    keys = load_keys(settings.keys_path, allow_public_exchange=settings.allow_public_exchange)
    what = "cancel every open order" + (" and close every position" if args.flatten else "")
    if not args.yes:
        if not sys.stdin.isatty():
            print("rocky-bot reset: refusing without --yes when not on a terminal", file=sys.stderr)
            return 2
        answer = input(f"{what} of {len(keys.accounts)} accounts on {keys.shown_base_url}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing done")
            return 1

    async def all_accounts() -> list[ResetResult]:
        governor = WeightGovernor(limit_per_min=settings.weight_limit_per_min)
        run = secrets.token_hex(3)
        return await asyncio.gather(
            *(
                reset_account(settings, keys, a, governor, args.flatten, f"{run}{i}")
                for i, a in enumerate(keys.accounts)
            )
        )

    # the table is the output (stdout); the client's own log lines go to stderr, warnings only
    configure_logging(settings.log_format, "warning")
    results = asyncio.run(all_accounts())
    print(render_results(results))
    failed = [r for r in results if r.error]
    if failed:
        print(f"{len(failed)} account(s) could not be reset", file=sys.stderr)
        return 1
    return 0
