"""Where each websocket path leads: the venue's market streams, the reference price, user data.

    /reference/stream?streams=a/b   /reference/ws/<stream>   the reference price (bookTicker)
    /stream?streams=  /ws/<stream>  and the same under /public and /market   the venue's market
    /ws/<listenKey>  /private/ws?listenKey=  /private/ws/<listenKey>          user data

Stream names contain '@' (or start with '!'); listenKeys never do, so `/ws/<x>` is told apart by
its shape. Every market stream is served under every market path: Binance routes high-frequency
kinds to /public and the rest to /market, and a client following that routing finds them there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from rocky_bot.sandbox.userdata import LISTEN_KEY_LENGTH, UserData

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


def routes(users: UserData, reference: Handler, market: Handler) -> list[BaseRoute]:
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

    out: list[BaseRoute] = [
        WebSocketRoute("/ws", market_raw),
        WebSocketRoute("/ws/{rest:path}", classic_ws),
        WebSocketRoute("/stream", _combined(market)),
        WebSocketRoute("/private/ws", private),
        WebSocketRoute("/private/ws/{rest:path}", private),
        WebSocketRoute("/reference/stream", _combined(reference)),
        WebSocketRoute("/reference/ws", _raw(reference)),
        WebSocketRoute("/reference/ws/{rest:path}", _raw(reference)),
    ]
    for prefix in ("/public", "/market"):
        out += [
            WebSocketRoute(f"{prefix}/stream", _combined(market)),
            WebSocketRoute(f"{prefix}/ws", market_raw),
            WebSocketRoute(f"{prefix}/ws/{{rest:path}}", market_raw),
        ]
    return out
