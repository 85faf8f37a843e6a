"""What each USDⓈ-M REST call costs: IP request weight, order counts, whether it is an order action.

One table, read by the client (its governor's pessimistic count and its request records), by the
sandbox (what it charges and the headers it answers with) and by the bench (weight as charged and
weight with order actions at 1). Every entry names the page of Binance's USDⓈ-M REST
documentation that states it; the pages are those the official connector
(binance-connector-python, `derivatives_trading_usds_futures`) links from each method.

Two kinds of cost, as on Binance:

- **IP weight** (`X-MBX-USED-WEIGHT-1M`, 2,400 a minute per IP): what the venue charges every
  request. New and modified orders cost 0 here;
- **order counts** (`X-MBX-ORDER-COUNT-10S` / `-1M`, per account): what placing or modifying
  costs instead.

Rocky is Binance-compatible but does not publish what it charges for order actions, so the bot
plans as if each costs 1 (DESIGN.md §7): `Cost.weight_at_1` is that pessimistic count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Binance's USDⓈ-M REST documentation; each entry's `doc` is a page anchor under it.
DOCS = (
    "https://developers.binance.com/en/docs/catalog/"
    "core-trading-derivatives-trading-usd-s-m-futures/api/rest-api/"
)
#: What DESIGN.md §7 plans for an order action Rocky might charge: 1, like a cancel.
PESSIMISTIC_ORDER_WEIGHT = 1

Params = Callable[[str], str | None]
"""A request's parameter by name (None when absent)."""

#: Weight by `limit` for the kline family: [1,100) 1, [100,500) 2, [500,1000] 5, > 1000 10.
_KLINE_LIMITS = ((99, 1), (499, 2), (1000, 5))
#: Weight by `limit` for depth: 5–50 2, 100 5, 500 10, 1000 20.
_DEPTH_LIMITS = ((50, 2), (100, 5), (500, 10), (1000, 20))


@dataclass(frozen=True, slots=True)
class Cost:
    """One endpoint's cost. `weight` is the IP weight (with `symbol` where that matters)."""

    weight: int
    doc: str  # anchor under DOCS
    without_symbol: int | None = None  # IP weight when `symbol` is omitted
    by_limit: tuple[tuple[int, int], ...] = ()  # (largest `limit`, weight), ascending
    over_limit: int = 0  # weight past the last `by_limit` bound
    default_limit: int = 500
    orders_10s: int = 0  # on the account's 10-second order count
    orders_1m: int = 0  # on the account's 1-minute order count
    action: str | None = None  # "place" | "modify" | "cancel": an order action
    note: str = ""

    @property
    def url(self) -> str:
        return DOCS + self.doc

    def ip_weight(self, params: Params) -> int:
        """The IP weight Binance charges this call with these parameters."""
        if self.without_symbol is not None and not params("symbol"):
            return self.without_symbol
        if self.by_limit:
            raw = params("limit")
            limit = int(raw) if raw and raw.isdigit() else self.default_limit
            for bound, weight in self.by_limit:
                if limit <= bound:
                    return weight
            return self.over_limit
        return self.weight

    def weight_at_1(self, params: Params) -> int:
        """The pessimistic count: an order action costs at least 1 (DESIGN.md §7)."""
        weight = self.ip_weight(params)
        return max(weight, PESSIMISTIC_ORDER_WEIGHT) if self.action else weight


_ORDER = {"orders_10s": 1, "orders_1m": 1}
_V1_NOTE = "Rocky serves v1 (gone from Binance); charged as the v2 page says"

COSTS: dict[tuple[str, str], Cost] = {
    # --- market data (no key) ------------------------------------------------------------------
    ("GET", "/fapi/v1/ping"): Cost(1, "market-data#test-connectivity"),
    ("GET", "/fapi/v1/time"): Cost(1, "market-data#check-server-time"),
    ("GET", "/fapi/v1/exchangeInfo"): Cost(1, "market-data#exchange-information"),
    ("GET", "/fapi/v1/depth"): Cost(
        10, "market-data#order-book", by_limit=_DEPTH_LIMITS, over_limit=20
    ),
    ("GET", "/fapi/v1/trades"): Cost(5, "market-data#recent-trades-list"),
    ("GET", "/fapi/v1/aggTrades"): Cost(20, "market-data#compressed-aggregate-trades-list"),
    **{
        ("GET", f"/fapi/v1/{name}"): Cost(
            5, f"market-data#{anchor}", by_limit=_KLINE_LIMITS, over_limit=10
        )
        for name, anchor in (
            ("klines", "kline-candlestick-data"),
            ("continuousKlines", "continuous-contract-kline-candlestick-data"),
            ("markPriceKlines", "mark-price-kline-candlestick-data"),
            ("indexPriceKlines", "index-price-kline-candlestick-data"),
        )
    },
    ("GET", "/fapi/v1/premiumIndex"): Cost(1, "market-data#mark-price", without_symbol=10),
    ("GET", "/fapi/v1/fundingRate"): Cost(
        1,
        "market-data#get-funding-rate-history",
        note="its own 500 per 5 min per IP limit, no stated IP weight: counted 1",
    ),
    ("GET", "/fapi/v1/openInterest"): Cost(1, "market-data#open-interest"),
    ("GET", "/fapi/v1/ticker/24hr"): Cost(
        1, "market-data#ticker24hr-price-change-statistics", without_symbol=40
    ),
    ("GET", "/fapi/v1/ticker/price"): Cost(1, "market-data#symbol-price-ticker", without_symbol=2),
    ("GET", "/fapi/v2/ticker/price"): Cost(
        1, "market-data#symbol-price-ticker-v2", without_symbol=2
    ),
    ("GET", "/fapi/v1/ticker/bookTicker"): Cost(
        2, "market-data#symbol-order-book-ticker", without_symbol=5
    ),
    # --- trade ------------------------------------------------------------------------------------
    ("POST", "/fapi/v1/order"): Cost(0, "trade#new-order", action="place", **_ORDER),
    ("PUT", "/fapi/v1/order"): Cost(0, "trade#modify-order", action="modify", **_ORDER),
    ("DELETE", "/fapi/v1/order"): Cost(1, "trade#cancel-order", action="cancel"),
    ("GET", "/fapi/v1/order"): Cost(1, "trade#query-order"),
    ("GET", "/fapi/v1/openOrder"): Cost(1, "trade#query-current-open-order"),
    ("GET", "/fapi/v1/openOrders"): Cost(1, "trade#current-all-open-orders", without_symbol=40),
    ("GET", "/fapi/v1/allOrders"): Cost(5, "trade#all-orders"),
    ("DELETE", "/fapi/v1/allOpenOrders"): Cost(1, "trade#cancel-all-open-orders"),
    ("POST", "/fapi/v1/batchOrders"): Cost(
        5, "trade#place-multiple-orders", orders_10s=5, orders_1m=1
    ),
    ("PUT", "/fapi/v1/batchOrders"): Cost(
        5, "trade#modify-multiple-orders", orders_10s=5, orders_1m=1
    ),
    ("DELETE", "/fapi/v1/batchOrders"): Cost(1, "trade#cancel-multiple-orders"),
    ("POST", "/fapi/v1/countdownCancelAll"): Cost(10, "trade#auto-cancel-all-open-orders"),
    ("GET", "/fapi/v1/userTrades"): Cost(5, "trade#account-trade-list"),
    ("POST", "/fapi/v1/leverage"): Cost(1, "trade#change-initial-leverage"),
    ("POST", "/fapi/v1/marginType"): Cost(1, "trade#change-margin-type"),
    ("POST", "/fapi/v1/positionSide/dual"): Cost(1, "trade#change-position-mode"),
    ("GET", "/fapi/v1/positionRisk"): Cost(5, "trade#position-information-v2", note=_V1_NOTE),
    ("GET", "/fapi/v2/positionRisk"): Cost(5, "trade#position-information-v2"),
    ("GET", "/fapi/v3/positionRisk"): Cost(5, "trade#position-information-v3"),
    # --- account ----------------------------------------------------------------------------------
    ("GET", "/fapi/v1/balance"): Cost(5, "account#futures-account-balance-v2", note=_V1_NOTE),
    ("GET", "/fapi/v2/balance"): Cost(5, "account#futures-account-balance-v2"),
    ("GET", "/fapi/v3/balance"): Cost(5, "account#futures-account-balance-v3"),
    ("GET", "/fapi/v2/account"): Cost(5, "account#account-information-v2"),
    ("GET", "/fapi/v3/account"): Cost(5, "account#account-information-v3"),
    ("GET", "/fapi/v1/leverageBracket"): Cost(1, "account#notional-and-leverage-brackets"),
    ("GET", "/fapi/v1/commissionRate"): Cost(20, "account#user-commission-rate"),
    ("GET", "/fapi/v1/symbolConfig"): Cost(5, "account#symbol-configuration"),
    ("GET", "/fapi/v1/income"): Cost(30, "account#get-income-history"),
    ("GET", "/fapi/v1/positionSide/dual"): Cost(30, "account#get-current-position-mode"),
    # --- user data stream (API key only) --------------------------------------------------------
    ("POST", "/fapi/v1/listenKey"): Cost(1, "user-data-streams#start-user-data-stream"),
    ("PUT", "/fapi/v1/listenKey"): Cost(1, "user-data-streams#keepalive-user-data-stream"),
    ("DELETE", "/fapi/v1/listenKey"): Cost(1, "user-data-streams#close-user-data-stream"),
}


def cost_of(method: str, path: str) -> Cost:
    """The cost of `method path`; KeyError for a call this table does not describe."""
    return COSTS[(method.upper(), path)]


def no_params(name: str) -> str | None:
    return None


def with_symbol(has_symbol: bool) -> Params:
    """A parameter view that knows only whether `symbol` was sent (all a weight needs here)."""
    return lambda name: "1" if has_symbol and name == "symbol" else None
