"""The sandbox's page at `/`: the demo as a visitor sees it, plus the fleet that keeps it alive.

The page itself (page/index.html, *.js, *.css: no build step, no CDN, plain canvas) is a client
of the venue like any visitor's browser: REST for history (klines, aggTrades, exchangeInfo) and
the venue's own websockets for everything live. This module only serves those files and one
helper endpoint, `/page/v1/fleet`: the daemon's `/status`, read server-side, so the browser never
needs to reach the daemon and the sandbox never imports it (the URL is configuration).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PAGE_DIR = Path(__file__).parent / "page"
ASSETS = {
    "style.css": "text/css",
    "format.js": "text/javascript",
    "charts.js": "text/javascript",
    "fleet.js": "text/javascript",
    "app.js": "text/javascript",
}
STATUS_TIMEOUT_S = 2.0
CACHE_S = 1.0
_ACCOUNT_FIELDS = ("account", "role", "layer", "breaker", "breaker_reason", "open_orders",
                   "positions", "cap", "wallet", "wallet_low", "burn_per_day", "days_to_empty",
                   "fills", "streaming", "last_error")  # fmt: skip


def fleet_panel(status: dict[str, Any]) -> dict[str, Any]:
    """The parts of the daemon's /status document the fleet panel shows."""
    accounts = [
        {k: a.get(k) for k in _ACCOUNT_FIELDS} for a in status.get("accounts", [])
        if isinstance(a, dict)
    ]  # fmt: skip
    keep = ("healthy", "problems", "warnings", "uptime_s", "feed", "used_weight_1m", "loops")
    return {**{k: status.get(k) for k in keep}, "accounts": accounts}


class FleetStatus:
    """Reads the daemon's /status for the page (cached briefly: every visitor polls it)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._cached: tuple[float, dict[str, Any]] | None = None

    def status_url(self) -> str | None:
        if not self.url:
            return None
        url = self.url.rstrip("/")
        return url if url.endswith("/status") else f"{url}/status"

    async def read(self) -> dict[str, Any]:
        url = self.status_url()
        if url is None:
            return {"fleet": None, "reason": "no fleet: the sandbox runs without a daemon"}
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < CACHE_S:
            return self._cached[1]
        try:
            async with httpx.AsyncClient(timeout=STATUS_TIMEOUT_S) as client:
                reply = await client.get(url)
            doc = reply.json()  # 503 (unhealthy) still carries the document
            answer = {"fleet": fleet_panel(doc) if isinstance(doc, dict) else None}
            if answer["fleet"] is None:
                answer["reason"] = "the daemon's /status is not a JSON object"
        except (httpx.HTTPError, ValueError) as exc:
            answer = {
                "fleet": None,
                "reason": f"no fleet: {url} unreachable ({type(exc).__name__})",
            }
        self._cached = (now, answer)
        return answer


def routes(fleet: Callable[[], FleetStatus]) -> list[Route]:
    async def index(_: Request) -> Response:
        return _file("index.html", "text/html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return JSONResponse({"code": -1000, "msg": "no such file"}, 404)
        return _file(name, ASSETS[name])

    async def fleet_status(_: Request) -> Response:
        return JSONResponse(await fleet().read(), headers={"Cache-Control": "no-store"})

    return [
        Route("/", index, methods=["GET"]),
        Route("/page/v1/fleet", fleet_status, methods=["GET"]),
        Route("/page/{name}", asset, methods=["GET"]),
    ]


def _file(name: str, media_type: str) -> Response:
    body = (PAGE_DIR / name).read_bytes()
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})
