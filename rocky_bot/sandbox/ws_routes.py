"""Where each websocket path leads: the venue's market streams, the reference price, user data.

    /reference/stream?streams=a/b   /reference/ws/<stream>   the reference price (bookTicker)
    /stream?streams=  /ws/<stream>  and the same under /public and /market   the venue's market
    /ws/<listenKey>  /private/ws?listenKey=  /private/ws/<listenKey>          user data

Stream names contain '@' (or start with '!'); listenKeys never do, so `/ws/<x>` is told apart by
its shape. Every market stream is served under every market path: Binance routes high-frequency
kinds to /public and the rest to /market, and a client following that routing finds them there.

Every path passes the per-IP `ConnectionGate` first (ws_limits.py): past its caps the handshake
is refused with HTTP 429, before anything is allocated for the connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from rocky_bot.sandbox.stream_hub import deny
from rocky_bot.sandbox.userdata import LISTEN_KEY_LENGTH, UserData
from rocky_bot.sandbox.ws_limits import ConnectionGate

Handler = Callable[[WebSocket, list[str] | None, bool], Awaitable[None]]


def _raw(handle: Handler) -> Callable[[WebSocket], Awaitable[None]]:
    async def serve(websocket: WebSocket) -> None:
        rest = websocket.path_params.get("rest")
        await handle(websocket, rest.split("/") if rest else None, False)

    return serve


def _combined(handle: Handler) -> Callable[[WebSocket], Awaitable[None]]:
    async def serve(websocket: WebSocket) -> None:
        streams = websocket.query_params.get("streams")
        await handle(websocket, streams.split("/") if streams else None, True)

    return serve


def _is_listen_key(rest: str) -> bool:
    return "@" not in rest and "/" not in rest and len(rest) == LISTEN_KEY_LENGTH


def _gated(
    gate: ConnectionGate, serve: Callable[[WebSocket], Awaitable[None]]
) -> Callable[[WebSocket], Awaitable[None]]:
    async def admitted(websocket: WebSocket) -> None:
        ip = websocket.client.host if websocket.client else "unknown"
        refused = gate.admit(ip)
        if refused is not None:
            await deny(websocket, 429, refused)
            return
        try:
            await serve(websocket)
        finally:
            gate.release(ip)

    return admitted


def routes(
    users: UserData, reference: Handler, market: Handler, gate: ConnectionGate
) -> list[BaseRoute]:
    market_raw = _raw(market)

    async def classic_ws(websocket: WebSocket) -> None:
        rest: str = websocket.path_params["rest"]
        if _is_listen_key(rest):
            await users.handle(websocket, rest, websocket.query_params.get("events"))
        else:
            await market_raw(websocket)

    async def private(websocket: WebSocket) -> None:
        key = websocket.path_params.get("rest") or websocket.query_params.get("listenKey") or ""
        await users.handle(websocket, key, websocket.query_params.get("events"))

    def route(path: str, serve: Callable[[WebSocket], Awaitable[None]]) -> BaseRoute:
        return WebSocketRoute(path, _gated(gate, serve))

    out: list[BaseRoute] = [
        route("/ws", market_raw),
        route("/ws/{rest:path}", classic_ws),
        route("/stream", _combined(market)),
        route("/private/ws", private),
        route("/private/ws/{rest:path}", private),
        route("/reference/stream", _combined(reference)),
        route("/reference/ws", _raw(reference)),
        route("/reference/ws/{rest:path}", _raw(reference)),
    ]
    for prefix in ("/public", "/market"):
        out += [
            route(f"{prefix}/stream", _combined(market)),
            route(f"{prefix}/ws", market_raw),
            route(f"{prefix}/ws/{{rest:path}}", market_raw),
        ]
    return out
