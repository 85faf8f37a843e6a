"""Signed account endpoints: balance and positionRisk (v1/v2/v3), account (v2/v3), leverage,
leverageBracket, userTrades."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from rocky_bot.sandbox import errors, rest_render
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.rest_gateway import Call, Endpoint, Gateway

SIGNED = "SIGNED"
MAINT_MARGIN_RATIO = 0.004  # JSON number in Binance's leverageBracket; matches ledger's 0.4 %


def routes(gw: Gateway, engine: Engine) -> list[Route]:
    asset = engine.asset

    def positions(call: Call, *, active_only: bool) -> list[Any]:
        wanted = call.opt("symbol")
        if wanted is not None:
            engine.grid(wanted)
        return [
            p
            for p in engine.account_view(call.who).positions
            if (wanted is None or p.symbol == wanted)
            and (not active_only or p.amt_steps != 0 or p.open_orders)
        ]

    def balance(call: Call) -> list[dict[str, Any]]:
        return [rest_render.balance(engine.account_view(call.who))]

    def position_risk_v2(call: Call) -> list[dict[str, Any]]:
        return [rest_render.position_v2(p) for p in positions(call, active_only=False)]

    def position_risk_v3(call: Call) -> list[dict[str, Any]]:
        return [rest_render.position_v3(p, asset) for p in positions(call, active_only=True)]

    def account(version: int):
        return lambda call: rest_render.account(engine.account_view(call.who), version)

    def leverage(call: Call) -> dict[str, Any]:
        symbol, value = call.req("symbol"), call.integer("leverage")
        if value is None:
            raise errors.missing("leverage")
        engine.set_leverage(call.who, symbol, value)
        return {"leverage": value, "maxNotionalValue": rest_render.MAX_NOTIONAL, "symbol": symbol}

    def leverage_bracket(call: Call) -> Any:
        wanted = call.opt("symbol")
        symbols = [engine.grid(wanted).symbol] if wanted else list(engine.grids)
        out = [
            {
                "symbol": s,
                "notionalCoef": 1,
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": 125,
                        "notionalCap": int(rest_render.MAX_NOTIONAL),
                        "notionalFloor": 0,
                        "maintMarginRatio": MAINT_MARGIN_RATIO,
                        "cum": 0,
                    }
                ],
            }
            for s in symbols
        ]
        return out[0] if wanted else out

    def user_trades(call: Call) -> list[dict[str, Any]]:
        symbol = engine.grid(call.req("symbol")).symbol
        limit = call.integer("limit", 500)
        assert limit is not None
        if not 1 <= limit <= 1000:
            raise errors.invalid_data("limit")
        order_id, from_id = call.integer("orderId"), call.integer("fromId")
        start, end = call.integer("startTime"), call.integer("endTime")
        fills = [
            f
            for f in engine.accounts[call.who].fills[symbol]
            if (order_id is None or f.order_id == order_id)
            and (from_id is None or f.trade_id >= from_id)
            and (start is None or f.time_ms >= start)
            and (end is None or f.time_ms <= end)
        ]
        fills = fills[:limit] if from_id is not None or start is not None else fills[-limit:]
        return [rest_render.user_trade(f, asset) for f in fills]

    return [
        *(gw.route(f"/fapi/v{v}/balance", GET=Endpoint(balance, SIGNED, 5)) for v in (1, 2, 3)),
        *(
            gw.route(f"/fapi/v{v}/positionRisk", GET=Endpoint(position_risk_v2, SIGNED, 5))
            for v in (1, 2)
        ),
        gw.route("/fapi/v3/positionRisk", GET=Endpoint(position_risk_v3, SIGNED, 5)),
        gw.route("/fapi/v2/account", GET=Endpoint(account(2), SIGNED, 5)),
        gw.route("/fapi/v3/account", GET=Endpoint(account(3), SIGNED, 5)),
        gw.route("/fapi/v1/leverage", POST=Endpoint(leverage, SIGNED)),
        gw.route("/fapi/v1/leverageBracket", GET=Endpoint(leverage_bracket, SIGNED)),
        gw.route("/fapi/v1/userTrades", GET=Endpoint(user_trades, SIGNED, 5)),
    ]
