"""Read an exchange's public market data (Binance format) and draw it for a terminal.

Used by `rocky-bot book` and the sandbox's live view; works against the sandbox and the real
demo exchange alike because it only uses public endpoints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

import httpx


@dataclass(frozen=True, slots=True)
class Depth:
    symbol: str
    bids: list[tuple[Decimal, Decimal]]  # best first
    asks: list[tuple[Decimal, Decimal]]

    @property
    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2

    @property
    def spread_bps(self) -> float | None:
        mid = self.mid
        if mid is None:
            return None
        return float((self.asks[0][0] - self.bids[0][0]) / mid * 10000)


async def fetch_depth(client: httpx.AsyncClient, symbol: str, limit: int = 100) -> Depth:
    reply = await client.get("/fapi/v1/depth", params={"symbol": symbol, "limit": limit})
    reply.raise_for_status()
    doc = reply.json()
    bids = [(Decimal(p), Decimal(q)) for p, q in doc.get("bids", [])]
    asks = [(Decimal(p), Decimal(q)) for p, q in doc.get("asks", [])]
    return Depth(symbol, bids, asks)


async def trades_last_minute(client: httpx.AsyncClient, symbol: str) -> int:
    reply = await client.get("/fapi/v1/trades", params={"symbol": symbol, "limit": 1000})
    reply.raise_for_status()
    cutoff = time.time() * 1000 - 60_000
    return sum(1 for t in reply.json() if int(t.get("time", 0)) >= cutoff)


def render_funnel(depth: Depth, rows: int = 20, width: int = 40) -> str:
    """Asks above, bids below, each level with its distance from mid in bps and a size bar."""
    mid = depth.mid
    if mid is None:
        return f"{depth.symbol}: book is empty on at least one side"
    asks = list(reversed(depth.asks[:rows]))
    bids = depth.bids[:rows]
    biggest = max((q for _, q in asks + bids), default=Decimal(1)) or Decimal(1)
    lines = [f"{depth.symbol}  mid {mid:.2f}  spread {depth.spread_bps:.2f} bps"]
    for label, levels in (("ask", asks), ("bid", bids)):
        if label == "bid":
            lines.append("-" * (width + 36))
        for price, qty in levels:
            bps = float((price - mid) / mid * 10000)
            bar = "█" * max(1, int(width * qty / biggest))
            lines.append(f"{label} {price:>14} {bps:>+8.1f} bps {qty:>10} {bar}")
    return "\n".join(lines)
