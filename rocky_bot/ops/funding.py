"""`rocky-bot fund`: top every account under the funding floor back up through the faucet.

Fees leave the fleet every day (≈ $830 at Binance's rates) and takers bleed by design, so
nothing keeps a fleet alive for weeks unless its wallets are refilled (issue 10). This is the
refill: it reads each account's wallet with the account's own signed client, in the margin asset
of the symbols traded (exchangeInfo's `marginAsset`: an account holding USDT and USDC is read in
the one that counts), and credits every wallet under `floor × ROCKY_WALLET_SEED_USD` with what
brings it back to `to`. It runs hourly from a systemd timer (deploy/rocky-bot-fund.timer), so
the daemon itself never holds the admin token; the soak runs the same `fund()` at a compressed
interval.

The decision (`plan_top_ups`) is pure; the reads and credits around it are the shell. The admin
token comes from `ops.admin_token` (environment or a mode-600 file, never argv) and never appears
in output or logs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

import httpx
import structlog

from rocky_bot.exchange.errors import ExchangeError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.fleet.build import client_for, margin_asset
from rocky_bot.keys import AccountKeys, KeysFile, load_keys
from rocky_bot.ops.admin_token import admin_token_from_env
from rocky_bot.ops.onboarding import OnboardingError, post_admin
from rocky_bot.settings import Settings, load_settings

log = structlog.get_logger()

CENT = Decimal("0.01")
#: Accounts read or credited at once: 30 accounts in a few round trips, never a burst of 30.
CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class TopUp:
    account_id: str
    wallet: Decimal
    amount: Decimal


def plan_top_ups(
    wallets: Mapping[str, Decimal | None], floor_usd: Decimal, to_usd: Decimal
) -> list[TopUp]:
    """Which accounts to credit, and by how much: every readable wallet under the floor gets
    what brings it to `to_usd` (rounded up to the cent). Unreadable wallets are not guessed at."""
    plan = []
    for account_id, wallet in wallets.items():
        if wallet is None or wallet >= floor_usd or wallet >= to_usd:
            continue
        amount = (to_usd - wallet).quantize(CENT, rounding=ROUND_UP)
        plan.append(TopUp(account_id, wallet, amount))
    return plan


@dataclass
class FundRow:
    """One account's line in the table: what its wallet was, what it got, what went wrong."""

    account_id: str
    wallet: Decimal | None = None
    funded: Decimal = Decimal(0)
    balance: Decimal | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FundResult:
    asset: str
    rows: list[FundRow]

    @property
    def failed(self) -> list[FundRow]:
        return [r for r in self.rows if r.error]

    @property
    def funded(self) -> list[FundRow]:
        return [r for r in self.rows if r.funded > 0 and not r.error]


async def read_wallet(
    settings: Settings, keys: KeysFile, account: AccountKeys, governor, asset: str
) -> Decimal:
    """The account's wallet balance in `asset` (0 when the exchange lists none: never funded).
    No clock sync first: a skewed clock is answered -1021, which the client re-syncs and
    retries once, so the usual run costs one request per account."""
    client = client_for(settings, keys.base_url, account, governor)
    try:
        balances = await client.balance()
    finally:
        await client.aclose()
    return next((b.wallet for b in balances if b.asset == asset), Decimal(0))


async def margin_asset_of(settings: Settings, keys: KeysFile, governor) -> str:
    probe = client_for(settings, keys.base_url, keys.accounts[0], governor)
    try:
        return margin_asset(await probe.exchange_info(), settings)
    finally:
        await probe.aclose()


async def fund(
    settings: Settings, keys: KeysFile, token: str, *, floor: float, to_usd: float
) -> FundResult:
    """Read every wallet, credit those under `floor × seed` up to `to_usd`; one row each."""
    governor = WeightGovernor(limit_per_min=settings.weight_limit_per_min)
    rows = {a.account_id: FundRow(a.account_id) for a in keys.accounts}
    try:
        asset = await margin_asset_of(settings, keys, governor)
    except ExchangeError as exc:
        for row in rows.values():
            row.error = f"exchangeInfo: {exc}"
        return FundResult("?", list(rows.values()))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def read(account: AccountKeys) -> None:
        async with gate:
            try:
                rows[account.account_id].wallet = await read_wallet(
                    settings, keys, account, governor, asset
                )
            except ExchangeError as exc:
                rows[account.account_id].error = f"balance: {exc}"

    await asyncio.gather(*(read(a) for a in keys.accounts))
    floor_usd = Decimal(repr(settings.wallet_seed_usd * floor))
    plan = plan_top_ups({k: r.wallet for k, r in rows.items()}, floor_usd, Decimal(repr(to_usd)))
    by_id = {a.account_id: a for a in keys.accounts}
    headers = {"X-Admin-Token": token}
    async with httpx.AsyncClient(base_url=keys.base_url, headers=headers, timeout=10) as admin:

        async def credit(top_up: TopUp) -> None:
            row = rows[top_up.account_id]
            async with gate:
                try:
                    reply = await post_admin(
                        admin, "/admin/v1/faucet",
                        {"apiKey": by_id[top_up.account_id].key, "amount": str(top_up.amount)},
                    )  # fmt: skip
                except OnboardingError as exc:
                    row.error = f"faucet: {exc}"
                    log.error("wallet_funding_failed", account=row.account_id, error=str(exc))
                    return
            row.funded = top_up.amount
            row.balance = _decimal_or_none(reply.get("balance"))
            balance = None if row.balance is None else str(row.balance)
            log.info(
                "wallet_funded", account=row.account_id, asset=asset, wallet=str(top_up.wallet),
                amount=str(top_up.amount), balance=balance,
            )  # fmt: skip

        await asyncio.gather(*(credit(t) for t in plan))
    return FundResult(asset, list(rows.values()))


def _decimal_or_none(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:
        return None


def render(result: FundResult, floor_usd: float, to_usd: float) -> str:
    width = max([len("account"), *(len(r.account_id) for r in result.rows)])
    lines = [f"{'account':<{width}}  {'wallet':>10}  {'funded':>9}  {'balance':>10}  result"]
    for r in result.rows:
        wallet = "?" if r.wallet is None else f"{r.wallet:.2f}"
        funded = f"+{r.funded:.2f}" if r.funded else "-"
        balance = "-" if r.balance is None else f"{r.balance:.2f}"
        result_text = r.error or ("funded" if r.funded else "ok")
        lines.append(
            f"{r.account_id:<{width}}  {wallet:>10}  {funded:>9}  {balance:>10}  {result_text}"
        )
    total = sum((r.funded for r in result.funded), Decimal(0))
    lines.append(
        f"{len(result.funded)} funded (+{total:.2f} {result.asset}), floor {floor_usd:g}, "
        f"to {to_usd:g}; {len(result.failed)} failed"
    )
    return "\n".join(lines)


def run_fund(settings: Settings, keys: KeysFile, *, floor: float, to_usd: float) -> int:
    """Fund once, print the table (stdout), exit 1 if any account could not be read or funded."""
    token = admin_token_from_env()
    result = asyncio.run(fund(settings, keys, token, floor=floor, to_usd=to_usd))
    print(render(result, settings.wallet_seed_usd * floor, to_usd))
    if result.failed:
        print(f"rocky-bot fund: {len(result.failed)} account(s) failed", file=sys.stderr)
        return 1
    return 0


def cmd_fund(args: argparse.Namespace) -> int:
    from rocky_bot.ops.logs import configure_logging

    settings = load_settings(keys_path=args.keys)
    keys = load_keys(settings.keys_path, allow_public_exchange=settings.allow_public_exchange)
    configure_logging(settings.log_format, settings.log_level)
    floor = settings.fund_floor if args.floor is None else args.floor
    if not 0 < floor <= 1:
        print("rocky-bot fund: --floor must be in (0, 1]", file=sys.stderr)
        return 2
    return run_fund(settings, keys, floor=floor, to_usd=args.to)


def top_up_alias(keys_path, base_url: str, to_usd: float) -> int:
    """`rocky-bot mint --top-up --out PATH [--amount N]`: `fund --keys PATH --to N`, against
    `--base-url` (the exchange the accounts were minted on)."""
    from dataclasses import replace

    from rocky_bot.ops.logs import configure_logging

    settings = load_settings(keys_path=keys_path)
    keys = replace(load_keys(keys_path, allow_public_exchange=True), base_url=base_url)
    configure_logging(settings.log_format, settings.log_level)
    return run_fund(settings, keys, floor=settings.fund_floor, to_usd=to_usd)
