"""Binance error codes the sandbox answers with, raised by the engine and the REST layer alike.

Clients (ours, ccxt, the official SDK) branch on the numeric code, so codes follow Binance's
USDⓈ-M table; messages follow Binance's wording where it is known ("codes are universal, but
messages can vary").
"""

from __future__ import annotations


class SandboxError(Exception):
    """A Binance error body `{"code", "msg"}` plus the HTTP status it travels with."""

    def __init__(self, code: int, msg: str, http_status: int = 400) -> None:
        super().__init__(f"[{code}] {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def missing(param: str) -> SandboxError:
    return SandboxError(
        -1102, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."
    )


def illegal(param: str, legal: str | None = None) -> SandboxError:
    where = f"; legal range is '{legal}'." if legal else "."
    return SandboxError(-1100, f"Illegal characters found in parameter '{param}'{where}")


def invalid_data(param: str) -> SandboxError:
    return SandboxError(-1130, f"Data sent for parameter '{param}' is not valid.")


def not_required(param: str) -> SandboxError:
    return SandboxError(-1106, f"Parameter '{param}' sent when not required.")


INVALID_SYMBOL = (-1121, "Invalid symbol.")
PRECISION = (-1111, "Precision is over the maximum defined for this asset.")
UNKNOWN_ORDER = (-2013, "Order does not exist.")
CANCEL_REJECTED = (-2011, "Unknown order sent.")
MARGIN = (-2019, "Margin is insufficient.")
REDUCE_ONLY = (-2022, "ReduceOnly Order is rejected.")
MAX_OPEN_ORDERS = (-2025, "Reach max open order limit.")
TICK = (-4014, "Price not increased by tick size.")
STEP = (-4023, "Quantity not increased by step size.")
QTY_NOT_POSITIVE = (-4003, "Quantity less than or equal to zero.")
QTY_TOO_BIG = (-4005, "Quantity greater than max quantity.")
QTY_TOO_SMALL = (-4004, "Quantity less than min quantity.")
PRICE_NOT_POSITIVE = (-4001, "Price less than 0.")
PRICE_TOO_HIGH = (-4002, "Price greater than max price.")
PRICE_TOO_LOW = (-4013, "Price less than min price.")
ABOVE_MULTIPLIER_UP = (-4016, "Price is higher than mark price multiplier cap.")
BELOW_MULTIPLIER_DOWN = (-4024, "Price is lower than mark price multiplier floor.")
MARKET_REJECTED = (
    -4131,
    "The counterparty's best price does not meet the PERCENT_PRICE filter limit",
)
CONDITIONAL_TYPE = (
    -4120,
    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
)
BAD_STP_MODE = (-5039, "Invalid self trade prevention mode")
NO_NEED_MARGIN_TYPE = (-4046, "No need to change margin type.")
NO_NEED_POSITION_SIDE = (-4059, "No need to change position side.")
UNSUPPORTED = (-1020, "This operation is not supported.")
BAD_INTERVAL = (-1120, "Invalid interval.")
DUPLICATE_CLIENT_ID = (-4116, "ClientOrderId is duplicated.")
BAD_CLIENT_ID = (-4015, "Client order id is not valid.")
FOK_REJECTED = (
    -5021,
    "Due to the order could not be filled immediately, the FOK order has been rejected. "
    "The order will not be recorded in the order history",
)
POST_ONLY_REJECTED = (
    -5022,
    "Due to the order could not be executed as maker, the Post Only order will be rejected. "
    "The order will not be recorded in the order history",
)
NO_NEED_TO_MODIFY = (-5027, "No need to modify the order.")
BAD_SIDE = (-1117, "Invalid side.")
BAD_TYPE = (-1116, "Invalid orderType.")
BAD_TIF = (-1115, "Invalid timeInForce.")


def rejected(code_msg: tuple[int, str]) -> SandboxError:
    return SandboxError(*code_msg)


def min_notional(notional: str) -> SandboxError:
    return SandboxError(
        -4164,
        f"Order's notional must be no smaller than {notional} (unless you choose reduce only).",
    )


def bad_leverage(leverage: object) -> SandboxError:
    return SandboxError(-4028, f"Leverage {leverage} is not valid")
