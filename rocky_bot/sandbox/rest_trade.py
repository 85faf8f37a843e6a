"""Signed trading endpoints: order POST/GET/DELETE/PUT, openOrder(s), allOrders, allOpenOrders,
batchOrders (POST/PUT/DELETE), countdownCancelAll. Thin: parse parameters, call the engine,
render its snapshot. A batch answers per element, in request order, as Binance does."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.routing import Route

from rocky_bot.sandbox import errors, rest_render
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.orders import OrderRequest, OrderView
from rocky_bot.sandbox.rest_call import Call, Endpoint, bounded
from rocky_bot.sandbox.rest_gateway import Gateway

MAX_BATCH = 5  # orders placed or amended per batch
MAX_CANCEL_BATCH = 10  # ids per batch cancel
SIGNED = "SIGNED"
_ORDER_ID_RE = re.compile(r"[0-9]{1,19}")  # an id, as JSON number or string


def parse_order(call: Call) -> OrderRequest:
    side, order_type = call.req("side"), call.req("type")
    if call.opt("positionSide") not in (None, "BOTH"):
        raise SandboxError(-4061, "Order's position side does not match user's setting.")
    if call.flag("closePosition"):
        raise errors.not_required("closePosition")
    if order_type == "LIMIT":
        call.req("timeInForce")
    quantity = call.decimal("quantity")
    assert quantity is not None
    return OrderRequest(
        symbol=call.req("symbol"),
        side=side,
        type=order_type,
        quantity=quantity,
        price=call.decimal("price", required=order_type == "LIMIT"),
        time_in_force=call.opt("timeInForce"),
        reduce_only=call.flag("reduceOnly"),
        client_order_id=call.opt("newClientOrderId"),
        stp_mode=call.opt("selfTradePreventionMode") or "NONE",
    )


def _ids(call: Call) -> tuple[int | None, str | None]:
    order_id, client_id = call.integer("orderId"), call.opt("origClientOrderId")
    if order_id is None and client_id is None:
        raise errors.missing("orderId")
    return order_id, client_id


def _as_params(item: Any) -> dict[str, str]:
    """One batchOrders element: JSON values back to the strings a query would carry.

    Numbers arrive as the text they were written in (`_json_list` keeps it), so `1E+999999`
    meets the same strict reader as in a query; null is as good as absent; a nested list or
    object is no parameter's value (-1130 for the element).
    """
    if not isinstance(item, dict):
        raise errors.invalid_data("batchOrders")
    out = {}
    for key, value in item.items():
        if isinstance(value, (list, dict)):
            raise errors.invalid_data(key)
        if value is not None:
            out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _json_list(call: Call, name: str, most: int = MAX_BATCH) -> list[Any]:
    """A JSON list parameter, numbers kept as written (no float rounding, no 4,300-digit int
    error, no inf); -1130 for anything else, JSON nested past the parser's depth included."""
    try:
        items = json.loads(call.req(name), parse_float=str, parse_int=str, parse_constant=str)
    except (ValueError, RecursionError):
        raise errors.invalid_data(name) from None
    if not isinstance(items, list) or not items or len(items) > most:
        raise errors.invalid_data(name)
    return items


def _each(call: Call, items: list[Any], one: Callable[[Call], dict[str, Any]]) -> list[dict]:
    """Run `one` per batch element; an element's error is its answer, the others go on."""
    results: list[dict[str, Any]] = []
    for item in items:
        try:
            results.append(one(Call(_as_params(item), call.account, call.now_ms, call.ip)))
        except SandboxError as err:
            results.append(err.body())
    return results


def routes(gw: Gateway, engine: Engine) -> list[Route]:
    def ack_or_result(call: Call, view: OrderView) -> dict[str, Any]:
        resp_type = call.opt("newOrderRespType") or "ACK"
        if resp_type not in ("ACK", "RESULT"):
            raise errors.invalid_data("newOrderRespType")
        return rest_render.order(view, ack=resp_type == "ACK")

    def place(call: Call) -> dict[str, Any]:
        rejection = gw.faults().reject_order(call.who)
        if rejection is not None:
            raise rejection
        return ack_or_result(call, engine.submit(call.who, parse_order(call)))

    def query(call: Call) -> dict[str, Any]:
        order_id, client_id = _ids(call)
        view = engine.query(call.who, call.req("symbol"), order_id, client_id)
        return rest_render.order(view, with_time=True)

    def query_open(call: Call) -> dict[str, Any]:
        view = engine.query(call.who, call.req("symbol"), *_ids(call))
        if not view.is_live:
            raise errors.rejected(errors.UNKNOWN_ORDER)
        return rest_render.order(view, with_time=True)

    def cancel(call: Call) -> dict[str, Any]:
        order_id, client_id = _ids(call)
        return rest_render.order(engine.cancel(call.who, call.req("symbol"), order_id, client_id))

    def modify(call: Call) -> dict[str, Any]:
        order_id, client_id = _ids(call)
        quantity, price = call.decimal("quantity"), call.decimal("price")
        assert quantity is not None and price is not None
        view = engine.modify(
            call.who, call.req("symbol"), side=call.req("side"), quantity=quantity, price=price,
            order_id=order_id, client_id=client_id,
        )  # fmt: skip
        return rest_render.order(view)

    def open_orders(call: Call) -> list[dict[str, Any]]:
        views = engine.open_orders(call.who, call.opt("symbol"))
        return [rest_render.order(v, with_time=True) for v in views]

    def cancel_all(call: Call) -> dict[str, Any]:
        engine.cancel_all(call.who, call.req("symbol"))
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def all_orders(call: Call) -> list[dict[str, Any]]:
        limit = bounded(call, "limit", 500, 1000)
        from_id, start, end = (call.integer(n) for n in ("orderId", "startTime", "endTime"))
        views = [
            v
            for v in engine.all_orders(call.who, call.req("symbol"))
            if (from_id is None or v.order_id >= from_id)
            and (start is None or v.time_ms >= start)
            and (end is None or v.time_ms <= end)
        ]
        views = views[:limit] if from_id is not None else views[-limit:]
        return [rest_render.order(v, with_time=True) for v in views]

    def batch_place(call: Call) -> list[dict[str, Any]]:
        return _each(call, _json_list(call, "batchOrders"), place)

    def batch_modify(call: Call) -> list[dict[str, Any]]:
        return _each(call, _json_list(call, "batchOrders"), modify)

    def batch_cancel(call: Call) -> list[dict[str, Any]]:
        symbol = call.req("symbol")
        if call.opt("orderIdList"):
            ids = _json_list(call, "orderIdList", MAX_CANCEL_BATCH)
            if not all(isinstance(i, str) and _ORDER_ID_RE.fullmatch(i) for i in ids):
                raise errors.invalid_data("orderIdList")  # [1e400], [true], [[1]], ["x"]
            targets: list[tuple[int | None, str | None]] = [(int(i), None) for i in ids]
        else:
            names = _json_list(call, "origClientOrderIdList", MAX_CANCEL_BATCH)
            if not all(isinstance(c, str) for c in names):
                raise errors.invalid_data("origClientOrderIdList")
            targets = [(None, c) for c in names]
        results: list[dict[str, Any]] = []
        for order_id, client_id in targets:
            try:
                results.append(
                    rest_render.order(engine.cancel(call.who, symbol, order_id, client_id))
                )
            except SandboxError as err:
                results.append(err.body())
        return results

    def countdown(call: Call) -> dict[str, Any]:
        symbol = call.req("symbol")
        countdown_ms = call.integer("countdownTime")
        if countdown_ms is None:
            raise errors.missing("countdownTime")
        engine.countdown_cancel_all(call.who, symbol, countdown_ms)
        return {"symbol": symbol, "countdownTime": str(countdown_ms)}

    return [
        gw.route(
            "/fapi/v1/order",
            POST=Endpoint(place, SIGNED),
            GET=Endpoint(query, SIGNED),
            DELETE=Endpoint(cancel, SIGNED),
            PUT=Endpoint(modify, SIGNED),
        ),
        gw.route("/fapi/v1/openOrder", GET=Endpoint(query_open, SIGNED)),
        gw.route("/fapi/v1/openOrders", GET=Endpoint(open_orders, SIGNED)),
        gw.route("/fapi/v1/allOrders", GET=Endpoint(all_orders, SIGNED)),
        gw.route("/fapi/v1/allOpenOrders", DELETE=Endpoint(cancel_all, SIGNED)),
        gw.route(
            "/fapi/v1/batchOrders",
            POST=Endpoint(batch_place, SIGNED),
            PUT=Endpoint(batch_modify, SIGNED),
            DELETE=Endpoint(batch_cancel, SIGNED),
        ),
        gw.route("/fapi/v1/countdownCancelAll", POST=Endpoint(countdown, SIGNED)),
    ]
