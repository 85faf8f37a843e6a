"""What an injected fault answers: Binance-shaped error replies, mangled replies, bad frames —
and the few ASGI helpers that send them (run an endpoint for its effect, answer otherwise).

The shapes are pure functions of their inputs (plus a `random.Random` the caller owns), so what
a client sees under each fault is fixed here. The bodies follow Binance's
wording where it is documented (binance-usdm.md §3): a 503 "Unknown error" means *execution
status unknown*, which is exactly what a client must be able to survive.
"""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rocky_bot.sandbox.errors import SandboxError

MALFORMED_KINDS = ("not_json", "html", "missing_field", "wrong_type")
GARBAGE_KINDS = ("not_json", "missing_field", "wrong_type", "not_numeric", "crossed_book")
CAPABILITIES = ("modify", "countdown", "user_stream", "ioc", "account")

#: Requests that change orders: under `error_rate`, half of these are executed before the 503.
ORDER_MUTATIONS = frozenset(
    {
        ("POST", "/fapi/v1/order"),
        ("PUT", "/fapi/v1/order"),
        ("DELETE", "/fapi/v1/order"),
        ("POST", "/fapi/v1/batchOrders"),
        ("DELETE", "/fapi/v1/batchOrders"),
        ("DELETE", "/fapi/v1/allOpenOrders"),
    }
)

PROXY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def unknown_status(rng: random.Random) -> SandboxError:
    """503 whose outcome is unknown: the request may or may not have been executed."""
    if rng.random() < 0.5:
        msg = "Unknown error, please check your request or try again later."
        return SandboxError(-1000, msg, 503)
    return SandboxError(
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; "
        "execution status unknown.",
        503,
    )


def rate_limited(limit_per_min: int) -> SandboxError:
    return SandboxError(
        -1003,
        f"Too many requests; current limit is {limit_per_min} requests per minute. "
        "Please use the websocket for live updates to avoid polling the API.",
        429,
    )


def banned(until_ms: int) -> SandboxError:
    return SandboxError(
        -1003,
        f"Way too many requests; IP banned until {until_ms}. "
        "Please use the websocket for live updates to avoid bans.",
        418,
    )


def unsupported_reply(
    capability: str | None, method: str, path: str, params: dict[str, str]
) -> tuple[str, SandboxError] | None:
    """The reply of an exchange without `capability`, if this request needs it."""
    if capability == "modify" and (method, path) == ("PUT", "/fapi/v1/order"):
        return capability, SandboxError(-1000, f"Method PUT is not allowed on {path}.", 405)
    if capability == "countdown" and path == "/fapi/v1/countdownCancelAll":
        return capability, SandboxError(-1000, f"{method} {path} is not a known endpoint.", 404)
    if capability == "account" and path in ("/fapi/v2/account", "/fapi/v3/account"):
        return capability, SandboxError(-1000, f"{method} {path} is not a known endpoint.", 404)
    if capability == "user_stream" and path == "/fapi/v1/listenKey":
        return capability, SandboxError(-1000, f"{method} {path} is not a known endpoint.", 404)
    if (
        capability == "ioc"
        and method == "POST"
        and path in ("/fapi/v1/order", "/fapi/v1/batchOrders")
        and ("IOC" in params.get("timeInForce", "") or "IOC" in params.get("batchOrders", ""))
    ):
        return capability, SandboxError(-1115, "Invalid timeInForce.")
    return None


def request_params(query: bytes, body: bytes) -> dict[str, str]:
    """Query and form body merged (query wins), as the gateway reads them."""
    params = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    params.update(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    return params


def mangle(kind: str, status: int, body: bytes, rng: random.Random) -> tuple[int, str, bytes]:
    """A reply damaged on its way back → (status, content type, body).

    `html`: a proxy's 502 page. `not_json`: the JSON cut off mid-way. `missing_field`: one key
    of the (first) object removed. `wrong_type`: one value wrapped in a list, so no field keeps
    its documented type (an empty list becomes an object).
    """
    if kind == "html":
        return 502, "text/html", PROXY_PAGE
    if kind == "not_json":
        return status, "application/json", body[: max(1, len(body) // 2)]
    try:
        doc = json.loads(body)
    except ValueError:
        return status, "application/json", body[: max(1, len(body) // 2)]
    target = doc[0] if isinstance(doc, list) and doc else doc
    if isinstance(target, dict) and target:
        key = rng.choice(sorted(target))
        if kind == "missing_field":
            del target[key]
        else:
            target[key] = [target[key]]
    elif isinstance(doc, list):
        doc = [{}] if kind == "missing_field" else {"unexpected": "object"}
    else:
        doc = {} if kind == "missing_field" else [doc]
    return status, "application/json", json.dumps(doc, separators=(",", ":")).encode()


def garbage_frame(kind: str, symbol: str, bid: str, ask: str) -> str:
    """A bad bookTicker payload for `symbol` (the feed must count it and never quote from it)."""
    head = f'"e":"bookTicker","u":1,"E":1,"T":1,"s":"{symbol}"'
    frames: dict[str, str] = {
        "not_json": "<html><body>502 Bad Gateway</body></html>",
        "missing_field": f'{{{head},"B":"1"}}',
        "wrong_type": f'{{{head},"b":{bid},"B":"1","a":{ask},"A":"1"}}',
        "not_numeric": f'{{{head},"b":"abc","B":"1","a":"{ask}","A":"1"}}',
        "crossed_book": f'{{{head},"b":"{ask}","B":"1","a":"{bid}","A":"1"}}',
    }
    return frames[kind]


def error_body(err: SandboxError) -> bytes:
    return json.dumps(err.body(), separators=(",", ":")).encode()


def headers_of(content_type: str, body: bytes, extra: dict[str, Any] | None = None) -> list:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    for name, value in (extra or {}).items():
        headers.append((name.lower().encode(), str(value).encode()))
    return headers


# -- sending them (ASGI) ------------------------------------------------------------------------


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def run(app: ASGIApp, scope: Scope, receive: Receive) -> list[Message]:
    """Run the endpoint for its effect; keep its reply (start + body messages) for later."""
    captured: list[Message] = []

    async def keep(message: Message) -> None:
        captured.append(message)

    await app(scope, receive, keep)
    return captured


async def replay_to(send: Send, captured: list[Message]) -> None:
    with contextlib.suppress(Exception):  # the client may be long gone: that is the point
        for message in captured:
            await send(message)


async def send_raw(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status,
         "headers": headers_of(content_type, body)}
    )  # fmt: skip
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def answer(send: Send, err: SandboxError, headers: dict[str, Any] | None = None) -> None:
    body = error_body(err)
    await send(
        {"type": "http.response.start", "status": err.http_status,
         "headers": headers_of("application/json", body, headers)}
    )  # fmt: skip
    await send({"type": "http.response.body", "body": body, "more_body": False})
