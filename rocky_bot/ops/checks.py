"""`rocky-bot check-keys`: the keys file checked offline; with --online one signed read each."""

from __future__ import annotations

import asyncio

from rocky_bot.exchange.errors import ExchangeError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.fleet.build import client_for
from rocky_bot.keys import KeysFile, load_keys, refuse_surplus_accounts
from rocky_bot.settings import Settings


def check_keys(settings: Settings, *, online: bool) -> int:
    keys = load_keys(settings.keys_path, allow_public_exchange=settings.allow_public_exchange)
    refuse_surplus_accounts(keys, settings.funnel_replicas)  # what `run` would refuse
    print(f"{keys.path}: {len(keys.accounts)} accounts, base_url {keys.shown_base_url}")
    if keys.missing:
        print(f"warning: funnel incomplete, missing: {', '.join(keys.missing)}")
    if not online:
        for account in keys.accounts:
            print(f"  {account.account_id:<20} {account.spec.role.value:<7} ok")
        return 0
    results = asyncio.run(_probe_all(settings, keys))
    width = max(len(a.account_id) for a in keys.accounts)
    print(f"  {'account':<{width}}  {'role':<7} result")
    for account, result in zip(keys.accounts, results, strict=True):
        print(f"  {account.account_id:<{width}}  {account.spec.role.value:<7} {result}")
    return 0 if all(r.startswith("ok") for r in results) else 1


async def _probe_all(settings: Settings, keys: KeysFile) -> list[str]:
    governor = WeightGovernor(limit_per_min=settings.weight_limit_per_min)

    async def probe(account) -> str:
        client = client_for(settings, keys.base_url, account, governor)
        try:
            balances = await client.balance()
            shown = ", ".join(f"{b.asset} {b.wallet}" for b in balances[:2]) or "no balances"
            return f"ok ({shown})"
        except ExchangeError as exc:
            return f"error: {exc}"
        finally:
            await client.aclose()

    return await asyncio.gather(*(probe(a) for a in keys.accounts))
