"""Every REST path the client calls, as data.

Rocky's backend serves `/fapi/v1/balance` and `/fapi/v1/positionRisk` (the defaults here); Binance
itself moved those to v2/v3. Keeping each path a field lets a setting switch dialect version
without touching the client.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiPaths:
    time: str = "/fapi/v1/time"
    exchange_info: str = "/fapi/v1/exchangeInfo"
    order: str = "/fapi/v1/order"
    open_orders: str = "/fapi/v1/openOrders"
    all_open_orders: str = "/fapi/v1/allOpenOrders"
    balance: str = "/fapi/v1/balance"
    position_risk: str = "/fapi/v1/positionRisk"
    account: str = "/fapi/v2/account"
    leverage: str = "/fapi/v1/leverage"
    countdown_cancel_all: str = "/fapi/v1/countdownCancelAll"
    listen_key: str = "/fapi/v1/listenKey"


#: Documented IP weight of each call (reference §2). Orders cost 0 IP weight on USDⓈ-M; they count
#: against the per-account order limits instead. openOrders costs 40 without a symbol.
WEIGHTS: dict[str, int] = {
    "time": 1,
    "exchange_info": 1,
    "place_order": 0,
    "get_order": 1,
    "cancel_order": 1,
    "modify_order": 1,
    "open_orders": 1,
    "open_orders_all_symbols": 40,
    "all_open_orders": 1,
    "balance": 5,
    "position_risk": 5,
    "account": 5,
    "leverage": 1,
    "countdown_cancel_all": 10,
    "listen_key": 1,
}
