"""`rocky-bot mint`: create the funnel's accounts through the onboarding contract, or top them up.

Contract (ours, not Binance's; documented in the README): header `X-Admin-Token`;
`POST /admin/v1/accounts {"name"}` → `{"name","apiKey","secretKey"}`;
`POST /admin/v1/faucet {"apiKey","amount"}` → the new balance.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import httpx

from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import funnel_ids
from rocky_bot.keys import load_keys, write_keys


class OnboardingError(Exception):
    pass


async def _post(client: httpx.AsyncClient, path: str, body: dict) -> dict:
    try:
        reply = await client.post(path, json=body)
    except httpx.HTTPError as exc:
        raise OnboardingError(f"{path}: {type(exc).__name__}: {exc}") from None
    if reply.status_code == 401:
        raise OnboardingError(f"{path}: admin token refused (HTTP 401)")
    if reply.status_code >= 400:
        raise OnboardingError(f"{path}: HTTP {reply.status_code}: {reply.text[:200]}")
    try:
        return reply.json()
    except ValueError:
        raise OnboardingError(f"{path}: reply is not JSON") from None


async def mint_accounts(
    base_url: str, admin_token: str, ids: list[str], amount: float
) -> list[tuple[str, str, str]]:
    """Create one account per id and credit it; return (id, api key, secret) triples."""
    headers = {"X-Admin-Token": admin_token}
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=10
    ) as c:

        async def one(account_id: str) -> tuple[str, str, str]:
            created = await _post(c, "/admin/v1/accounts", {"name": account_id})
            try:
                key, secret = created["apiKey"], created["secretKey"]
            except (KeyError, TypeError):
                raise OnboardingError("/admin/v1/accounts: reply lacks apiKey/secretKey") from None
            if amount > 0:
                await _post(c, "/admin/v1/faucet", {"apiKey": key, "amount": str(amount)})
            return account_id, key, secret

        return list(await asyncio.gather(*(one(i) for i in ids)))


async def top_up(base_url: str, admin_token: str, keys: list[str], amount: float) -> list[dict]:
    headers = {"X-Admin-Token": admin_token}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as c:
        return list(
            await asyncio.gather(
                *(_post(c, "/admin/v1/faucet", {"apiKey": k, "amount": str(amount)}) for k in keys)
            )
        )


def admin_token_from(args: argparse.Namespace) -> str:
    token = args.admin_token or os.environ.get("ROCKY_ADMIN_TOKEN")
    if not token:
        raise ConfigError("admin token missing: pass --admin-token or set ROCKY_ADMIN_TOKEN")
    return token


def cmd_mint(args: argparse.Namespace) -> int:
    token = admin_token_from(args)
    out: Path = args.out
    base_url = args.base_url.rstrip("/")
    try:
        if args.top_up:
            keys = load_keys(out, allow_public_exchange=True)
            replies = asyncio.run(
                top_up(base_url, token, [a.key for a in keys.accounts], args.amount)
            )
            for account, reply in zip(keys.accounts, replies, strict=True):
                print(f"{account.account_id:<22} balance {reply.get('balance', '?')}")
            return 0
        if out.exists() and not args.force:
            raise ConfigError(f"{out}: already exists; refusing to overwrite (use --force)")
        minted = asyncio.run(mint_accounts(base_url, token, funnel_ids(args.accounts), args.amount))
    except OnboardingError as exc:
        print(f"rocky-bot mint: {exc}")
        return 1
    write_keys(out, base_url, minted)
    print(f"wrote {out} (mode 600) with {len(minted)} accounts:")
    for account_id, _, _ in minted:
        print(f"  {account_id}")
    return 0
