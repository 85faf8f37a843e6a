"""Engine snapshots → Binance USDⓈ-M JSON: field names, integer ids and times, decimal strings.

Prices and quantities are printed at the symbol's precision from integers (no float, no
exponent); money at 8 decimals like Binance's balances.
"""

from __future__ import annotations

from typing import Any

from rocky_bot.sandbox.grid import fmt_money
from rocky_bot.sandbox.ledger import AccountView, PositionView
from rocky_bot.sandbox.orders import Fill, OrderView

MAX_NOTIONAL = "1000000000"


def order(v: OrderView, *, ack: bool = False, with_time: bool = False) -> dict[str, Any]:
    """The order object. `ack` = the state at acceptance (Binance's newOrderRespType=ACK)."""
    g = v.grid
    steps, money = (0, 0) if ack else (v.filled_steps, v.filled_money)
    executed = g.fmt_qty(steps)
    out: dict[str, Any] = {
        "orderId": v.order_id,
        "symbol": g.symbol,
        "status": "NEW" if ack else v.status,
        "clientOrderId": v.client_order_id,
        "price": g.fmt_price(v.price_ticks),
        "avgPrice": g.fmt_avg_price(money, steps),
        "origQty": g.fmt_qty(v.qty_steps),
        "executedQty": executed,
        "cumQty": executed,
        "cumQuote": fmt_money(money),
        "timeInForce": v.time_in_force,
        "type": v.type,
        "reduceOnly": v.reduce_only,
        "closePosition": False,
        "side": v.side,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": v.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": v.stp_mode,
        "goodTillDate": 0,
        "updateTime": v.time_ms if ack else v.update_time_ms,
    }
    if with_time:
        out["time"] = v.time_ms
        del out["cumQty"]
    return out


def user_trade(f: Fill, asset: str) -> dict[str, Any]:
    g = f.grid
    return {
        "buyer": f.side == "BUY",
        "commission": fmt_money(f.commission_money),
        "commissionAsset": asset,
        "id": f.trade_id,
        "maker": f.maker,
        "orderId": f.order_id,
        "price": g.fmt_price(f.price_ticks),
        "qty": g.fmt_qty(f.qty_steps),
        "quoteQty": fmt_money(f.quote_money),
        "realizedPnl": fmt_money(f.realized_money),
        "side": f.side,
        "positionSide": "BOTH",
        "symbol": g.symbol,
        "time": f.time_ms,
    }


def _entry(p: PositionView) -> str:
    return p.grid.fmt_avg_price(p.cost_money, p.amt_steps)


def position_v2(p: PositionView) -> dict[str, Any]:
    """v1/v2 positionRisk element (one-way mode, cross margin)."""
    return {
        "symbol": p.symbol,
        "positionAmt": p.grid.fmt_qty(p.amt_steps),
        "entryPrice": _entry(p),
        "breakEvenPrice": _entry(p),
        "markPrice": f"{p.mark_price:f}",
        "unRealizedProfit": fmt_money(p.unrealized_money),
        "liquidationPrice": "0",
        "leverage": str(p.leverage),
        "maxNotionalValue": MAX_NOTIONAL,
        "marginType": "cross",
        "isolatedMargin": "0.00000000",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": fmt_money(p.notional_money),
        "isolatedWallet": "0",
        "updateTime": p.update_time_ms,
    }


def position_v3(p: PositionView, asset: str) -> dict[str, Any]:
    return {
        "symbol": p.symbol,
        "positionSide": "BOTH",
        "positionAmt": p.grid.fmt_qty(p.amt_steps),
        "entryPrice": _entry(p),
        "breakEvenPrice": _entry(p),
        "markPrice": f"{p.mark_price:f}",
        "unRealizedProfit": fmt_money(p.unrealized_money),
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": fmt_money(p.notional_money),
        "marginAsset": asset,
        "isolatedWallet": "0",
        "initialMargin": fmt_money(p.position_im_money + p.order_im_money),
        "maintMargin": fmt_money(p.maint_money),
        "positionInitialMargin": fmt_money(p.position_im_money),
        "openOrderInitialMargin": fmt_money(p.order_im_money),
        "adl": 0,
        "bidNotional": fmt_money(p.bid_notional_money),
        "askNotional": fmt_money(p.ask_notional_money),
        "updateTime": p.update_time_ms,
    }


def balance(a: AccountView) -> dict[str, Any]:
    wallet, available = fmt_money(a.wallet_money), fmt_money(max(0, a.available_money))
    return {
        "accountAlias": "SgsR",
        "asset": a.asset,
        "balance": wallet,
        "crossWalletBalance": wallet,
        "crossUnPnl": fmt_money(a.unrealized_money),
        "availableBalance": available,
        "maxWithdrawAmount": available,
        "marginAvailable": True,
        "updateTime": a.update_time_ms,
    }


def account(a: AccountView, version: int) -> dict[str, Any]:
    """GET /fapi/v2/account and /fapi/v3/account (single-asset mode)."""
    im = a.position_im_money + a.order_im_money
    available = fmt_money(max(0, a.available_money))
    totals = {
        "totalInitialMargin": fmt_money(im),
        "totalMaintMargin": fmt_money(a.maint_money),
        "totalWalletBalance": fmt_money(a.wallet_money),
        "totalUnrealizedProfit": fmt_money(a.unrealized_money),
        "totalMarginBalance": fmt_money(a.margin_balance_money),
        "totalPositionInitialMargin": fmt_money(a.position_im_money),
        "totalOpenOrderInitialMargin": fmt_money(a.order_im_money),
        "totalCrossWalletBalance": fmt_money(a.wallet_money),
        "totalCrossUnPnl": fmt_money(a.unrealized_money),
        "availableBalance": available,
        "maxWithdrawAmount": available,
    }
    asset = {
        "asset": a.asset,
        "walletBalance": fmt_money(a.wallet_money),
        "unrealizedProfit": fmt_money(a.unrealized_money),
        "marginBalance": fmt_money(a.margin_balance_money),
        "maintMargin": fmt_money(a.maint_money),
        "initialMargin": fmt_money(im),
        "positionInitialMargin": fmt_money(a.position_im_money),
        "openOrderInitialMargin": fmt_money(a.order_im_money),
        "crossWalletBalance": fmt_money(a.wallet_money),
        "crossUnPnl": fmt_money(a.unrealized_money),
        "availableBalance": available,
        "maxWithdrawAmount": available,
        "marginAvailable": True,
        "updateTime": a.update_time_ms,
    }
    positions: list[dict[str, Any]] = []
    for p in a.positions:
        base = {
            "symbol": p.symbol,
            "positionSide": "BOTH",
            "positionAmt": p.grid.fmt_qty(p.amt_steps),
            "unrealizedProfit": fmt_money(p.unrealized_money),
            "initialMargin": fmt_money(p.position_im_money + p.order_im_money),
            "maintMargin": fmt_money(p.maint_money),
            "updateTime": p.update_time_ms,
        }
        if version == 3:
            if p.amt_steps == 0 and p.open_orders == 0:
                continue
            base |= {"isolatedMargin": "0", "notional": fmt_money(p.notional_money)}
            base["isolatedWallet"] = "0"
        else:
            base |= {
                "positionInitialMargin": fmt_money(p.position_im_money),
                "openOrderInitialMargin": fmt_money(p.order_im_money),
                "leverage": str(p.leverage),
                "isolated": False,
                "entryPrice": _entry(p),
                "breakEvenPrice": _entry(p),
                "maxNotional": MAX_NOTIONAL,
                "bidNotional": fmt_money(p.bid_notional_money),
                "askNotional": fmt_money(p.ask_notional_money),
                "notional": fmt_money(p.notional_money),
                "isolatedWallet": "0",
            }
        positions.append(base)
    header: dict[str, Any] = {}
    if version == 2:
        header = {
            "feeTier": 0,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "feeBurn": False,
            "tradeGroupId": -1,
            "updateTime": 0,
            "multiAssetsMargin": False,
        }
    return header | totals | {"assets": [asset], "positions": positions}
