"""`rocky-bot mint`: create the funnel's accounts through the onboarding contract, or top them up.

Contract (ours, not Binance's; documented in the README): header `X-Admin-Token` (the token
from the environment or a file, never argv: `ops.admin_token`);
`POST /admin/v1/accounts {"name"}` → `{"name","apiKey","secretKey"}`;
`POST /admin/v1/faucet {"apiKey","amount"}` → the new balance.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import httpx

from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import funnel_ids
from rocky_bot.keys import write_keys
from rocky_bot.ops.admin_token import admin_token_from_env


class OnboardingError(Exception):
    pass


async def post_admin(client: httpx.AsyncClient, path: str, body: dict) -> dict:
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
            created = await post_admin(c, "/admin/v1/accounts", {"name": account_id})
            try:
                key, secret = created["apiKey"], created["secretKey"]
            except (KeyError, TypeError):
                raise OnboardingError("/admin/v1/accounts: reply lacks apiKey/secretKey") from None
            if amount > 0:
                await post_admin(c, "/admin/v1/faucet", {"apiKey": key, "amount": str(amount)})
            return account_id, key, secret

        return await _all_or_first_error([one(i) for i in ids])


async def _all_or_first_error(coros: list) -> list:
    """Run every request to the end, then raise the first failure: no request is left running
    against a closed client (which would print stray tracebacks after the one-line error)."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def reserve_keys_file(path: Path) -> None:
    """Create `path` empty with mode 600, atomically failing if it exists (O_EXCL): of two
    mints racing for one keys file exactly one proceeds, before either creates any account."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # also for a symlink there, dangling or not: O_EXCL never follows
        raise ConfigError(f"{path}: already exists; refusing to overwrite (use --force)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create keys file: {exc.strerror}") from None
    os.close(fd)


def cmd_mint(args: argparse.Namespace) -> int:
    token = admin_token_from_env()
    out: Path = args.out
    base_url = args.base_url.rstrip("/")
    if args.top_up:  # an alias of `rocky-bot fund`: the same code path
        from rocky_bot.ops.funding import top_up_alias

        return top_up_alias(out, base_url, args.amount)
    if not args.force:
        reserve_keys_file(out)
    try:
        minted = asyncio.run(mint_accounts(base_url, token, funnel_ids(args.accounts), args.amount))
    except BaseException as exc:
        if not args.force:
            out.unlink(missing_ok=True)  # our empty reservation, never someone's keys
        if not isinstance(exc, OnboardingError):
            raise
        print(f"rocky-bot mint: {exc}", file=sys.stderr)
        return 1
    write_keys(out, base_url, minted)
    print(f"wrote {out} (mode 600) with {len(minted)} accounts:")
    for account_id, _, _ in minted:
        print(f"  {account_id}")
    return 0
