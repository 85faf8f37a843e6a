"""Signed account endpoints: balance and positionRisk (v1/v2/v3), account (v2/v3), leverage,
leverageBracket, userTrades, commissionRate, symbolConfig, income, and the position and margin
modes.

The venue has one mode of each: one-way positions (`dualSidePosition` false) on cross margin.
Asking for the mode it already has answers Binance's "no need to change" (-4059 / -4046, which
clients such as ccxt treat as success); asking for hedge mode or isolated margin answers -1020,
"This operation is not supported."
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from rocky_bot.sandbox import errors, rest_render
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.grid import fmt_money
from rocky_bot.sandbox.rest_call import Call, Endpoint, bounded
from rocky_bot.sandbox.rest_gateway import Gateway

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

    def symbols_of(call: Call) -> list[str]:
        wanted = call.opt("symbol")
        return [engine.grid(wanted).symbol] if wanted else list(engine.grids)

    def commission_rate(call: Call) -> dict[str, Any]:
        return {"symbol": engine.grid(call.req("symbol")).symbol,
                "makerCommissionRate": f"{engine.maker_fee_rate:f}",
                "takerCommissionRate": f"{engine.taker_fee_rate:f}"}  # fmt: skip

    def symbol_config(call: Call) -> list[dict[str, Any]]:
        return [
            {"symbol": s, "marginType": "CROSSED", "isAutoAddMargin": "false",
             "leverage": engine.leverage(call.who, s), "maxNotionalValue": rest_render.MAX_NOTIONAL}
            for s in symbols_of(call)
        ]  # fmt: skip

    def position_mode(call: Call) -> dict[str, Any]:
        return {"dualSidePosition": False}

    def set_position_mode(call: Call) -> dict[str, Any]:
        hedge = call.flag("dualSidePosition") if call.opt("dualSidePosition") else None
        if hedge is None:
            raise errors.missing("dualSidePosition")
        raise errors.rejected(errors.UNSUPPORTED if hedge else errors.NO_NEED_POSITION_SIDE)

    def margin_type(call: Call) -> dict[str, Any]:
        engine.grid(call.req("symbol"))
        wanted = call.req("marginType").upper()
        if wanted not in ("ISOLATED", "CROSSED"):
            raise errors.invalid_data("marginType")
        raise errors.rejected(
            errors.NO_NEED_MARGIN_TYPE if wanted == "CROSSED" else errors.UNSUPPORTED
        )

    def income(call: Call) -> list[dict[str, Any]]:
        limit = bounded(call, "limit", 100, 1000)
        wanted, kind = call.opt("symbol"), call.opt("incomeType")
        start, end = call.integer("startTime"), call.integer("endTime")
        if start is None and end is None:
            start = call.now_ms - 7 * 24 * 3600 * 1000  # Binance: the last 7 days by default
        rows = [
            i
            for i in engine.incomes(call.who)
            if (wanted is None or i.symbol == wanted)
            and (kind is None or i.kind == kind)
            and (start is None or i.time_ms >= start)
            and (end is None or i.time_ms <= end)
        ]
        return [
            {"symbol": i.symbol, "incomeType": i.kind, "income": fmt_money(i.money),
             "asset": asset, "info": i.kind, "time": i.time_ms, "tranId": i.tran_id,
             "tradeId": "" if i.trade_id is None else str(i.trade_id)}
            for i in rows[:limit]
        ]  # fmt: skip

    return [
        *(gw.route(f"/fapi/v{v}/balance", GET=Endpoint(balance, SIGNED)) for v in (1, 2, 3)),
        *(
            gw.route(f"/fapi/v{v}/positionRisk", GET=Endpoint(position_risk_v2, SIGNED))
            for v in (1, 2)
        ),
        gw.route("/fapi/v3/positionRisk", GET=Endpoint(position_risk_v3, SIGNED)),
        gw.route("/fapi/v2/account", GET=Endpoint(account(2), SIGNED)),
        gw.route("/fapi/v3/account", GET=Endpoint(account(3), SIGNED)),
        gw.route("/fapi/v1/leverage", POST=Endpoint(leverage, SIGNED)),
        gw.route("/fapi/v1/leverageBracket", GET=Endpoint(leverage_bracket, SIGNED)),
        gw.route("/fapi/v1/userTrades", GET=Endpoint(user_trades, SIGNED)),
        gw.route("/fapi/v1/commissionRate", GET=Endpoint(commission_rate, SIGNED)),
        gw.route("/fapi/v1/symbolConfig", GET=Endpoint(symbol_config, SIGNED)),
        gw.route("/fapi/v1/income", GET=Endpoint(income, SIGNED)),
        gw.route(
            "/fapi/v1/positionSide/dual",
            GET=Endpoint(position_mode, SIGNED),
            POST=Endpoint(set_position_mode, SIGNED),
        ),
        gw.route("/fapi/v1/marginType", POST=Endpoint(margin_type, SIGNED)),
    ]
