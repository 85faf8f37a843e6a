"""Helpers for tests that talk to a real sandbox over HTTP: onboarding and signed requests."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import httpx

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.signing import sign


async def mint(sandbox: SandboxExchange, name: str, amount: float | str = 100) -> tuple[str, str]:
    """Create an account through the onboarding contract and fund it → (api key, secret)."""
    headers = {"X-Admin-Token": sandbox.admin_token}
    async with httpx.AsyncClient(base_url=sandbox.base_url, headers=headers) as client:
        made = await client.post("/admin/v1/accounts", json={"name": name})
        made.raise_for_status()
        keys = made.json()
        funded = await client.post(
            "/admin/v1/faucet", json={"apiKey": keys["apiKey"], "amount": str(amount)}
        )
        funded.raise_for_status()
    return keys["apiKey"], keys["secretKey"]


def signed_query(secret: str, params: dict[str, Any], *, timestamp: int | None = None) -> str:
    """Binance-style `a=1&b=2&timestamp=...&signature=...` for the given parameters."""
    merged = {**params, "timestamp": timestamp if timestamp is not None else now_ms()}
    payload = urlencode(merged)
    return f"{payload}&signature={sign(secret, payload)}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def signed(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    key: str,
    secret: str,
    params: dict[str, Any] | None = None,
    *,
    in_body: bool = False,
    timestamp: int | None = None,
) -> httpx.Response:
    """One signed request; parameters in the query string (default) or a form body (ccxt)."""
    query = signed_query(secret, params or {}, timestamp=timestamp)
    headers = {"X-MBX-APIKEY": key}
    if in_body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return await client.request(method, path, content=query, headers=headers)
    return await client.request(method, f"{path}?{query}", headers=headers)
