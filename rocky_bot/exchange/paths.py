"""Every REST path the client calls, as data.

Rocky's backend serves `/fapi/v1/balance` and `/fapi/v1/positionRisk` (the defaults here); Binance
itself moved those to v2/v3. Keeping each path a field lets a setting switch dialect version
without touching the client. What each call costs is not here: `rocky_bot.binance_api.weights`
is the one table the client, the sandbox and the bench read.
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
