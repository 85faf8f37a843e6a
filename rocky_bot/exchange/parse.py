"""Pure parsers: Binance USDⓈ-M REST replies → typed models, or `MalformedReplyError`.

Every field is checked for presence and type, and every problem names the endpoint and the field
path (`[2].positionAmt`), so a proxy's HTML page or a half-implemented backend fails loudly and
legibly instead of as a KeyError three frames into a strategy. Extra fields are ignored: Binance
adds fields over time. Numbers are read one strict way (`rocky_bot.numbers`), and values no
exchange could send are refused by name: `executedQty` above `origQty`, a negative wallet, a
listenKey a URL cannot carry.
"""

from __future__ import annotations

import re
from decimal import Decimal

from rocky_bot.exchange.errors import MalformedReplyError
from rocky_bot.exchange.fields import Fields, items_of
from rocky_bot.exchange.models import Balance, Order, Position, SymbolRules

_LISTEN_KEY_RE = re.compile(r"[A-Za-z0-9._~-]+")
MAX_LEVERAGE = 125  # Binance's highest

# ----------------------------------------------------------------------------------- REST replies


def _order(f: Fields) -> Order:
    orig_qty = f.decimal("origQty", minimum=0)
    return Order(
        symbol=f.text("symbol"),
        order_id=f.integer("orderId"),
        client_order_id=f.text("clientOrderId"),
        side=f.side("side"),
        price=f.decimal("price", minimum=0),
        orig_qty=orig_qty,
        executed_qty=f.decimal("executedQty", minimum=0, at_most=orig_qty),
        status=f.status("status"),
        time_in_force=f.text("timeInForce", "GTC"),
        order_type=f.text("type", "LIMIT"),
        reduce_only=f.flag("reduceOnly", False),
        update_time_ms=f.integer("updateTime", f.data.get("time") or 0),
    )


def parse_order(obj: object, endpoint: str = "/fapi/v1/order") -> Order:
    """POST/GET/DELETE/PUT order reply (one order object)."""
    return _order(Fields(obj, endpoint))


def parse_open_orders(obj: object, endpoint: str = "/fapi/v1/openOrders") -> list[Order]:
    return [_order(f) for f in items_of(obj, endpoint)]


def parse_position_risk(obj: object, endpoint: str = "/fapi/v1/positionRisk") -> list[Position]:
    """positionRisk v1/v2/v3 (same core fields); short positions have a negative positionAmt."""
    return [
        Position(
            symbol=f.text("symbol"),
            amount=f.decimal("positionAmt"),
            entry_price=f.decimal("entryPrice", minimum=0),
            mark_price=f.decimal("markPrice", minimum=0),
        )
        for f in items_of(obj, endpoint)
    ]


def _balance(f: Fields) -> Balance:
    wallet_key = "balance" if "balance" in f.data else "walletBalance"
    available_key = next(
        (k for k in ("availableBalance", "withdrawAvailable", "maxWithdrawAmount") if k in f.data),
        "availableBalance",
    )
    # A wallet may be below zero: fees and losses past the wallet with no liquidation to stop
    # them (the sandbox; a bankrupt account on a venue). Refusing it hid exactly the wallet that
    # most needs the faucet: `rocky-bot fund` could not read it, so never topped it up.
    return Balance(
        asset=f.text("asset"), wallet=f.decimal(wallet_key),
        available=f.decimal(available_key),
    )  # fmt: skip


def parse_balance(obj: object, endpoint: str = "/fapi/v1/balance") -> list[Balance]:
    """balance v1 (`withdrawAvailable`), v2/v3 (`availableBalance`), or account's `assets`."""
    if isinstance(obj, dict):
        return [_balance(f) for f in Fields(obj, endpoint).items("assets")]
    return [_balance(f) for f in items_of(obj, endpoint)]


def parse_account(
    obj: object, endpoint: str = "/fapi/v2/account"
) -> tuple[list[Balance], list[Position]]:
    """account v2/v3: the wallet (`assets`) and every position in one call (5 weight, where
    balance + positionRisk are 10). It carries no mark price: the entry price stands in, as in
    the user stream's ACCOUNT_UPDATE (v3 has no entry price either: then 0)."""
    f = Fields(obj, endpoint)
    positions = []
    for p in f.items("positions"):
        entry = p.decimal("entryPrice", minimum=0) if "entryPrice" in p.data else Decimal(0)
        amount = p.decimal("positionAmt")
        positions.append(Position(p.text("symbol"), amount, entry, entry))
    return [_balance(a) for a in f.items("assets")], positions


def _symbol_rules(f: Fields) -> SymbolRules:
    symbol = f.text("symbol")
    filters: dict[str, Fields] = {}
    for filt in f.items("filters"):
        filters.setdefault(filt.text("filterType"), filt)
    for required in ("PRICE_FILTER", "LOT_SIZE"):
        if required not in filters:
            raise f.fail("filters", f"has no {required}")
    price, lot = filters["PRICE_FILTER"], filters["LOT_SIZE"]
    min_notional = Decimal(0)
    notional = filters.get("MIN_NOTIONAL") or filters.get("NOTIONAL")
    if notional is not None:
        key = "notional" if "notional" in notional.data else "minNotional"
        min_notional = notional.decimal(key, minimum=0)
    tick, step = price.decimal("tickSize"), lot.decimal("stepSize")
    if tick <= 0 or step <= 0:
        raise f.fail("filters", f"has tickSize {tick} / stepSize {step}, expected > 0")
    margin_asset = f.text("marginAsset", None) if f.data.get("marginAsset") else None
    quote = f.text("quoteAsset", None) if f.data.get("quoteAsset") else None
    # maxPrice 0 means "no maximum" (Binance's filter convention).
    min_price = price.decimal("minPrice", "0", minimum=0)
    max_price = price.decimal("maxPrice", "0", minimum=0)
    return SymbolRules(
        symbol, tick, step, lot.decimal("minQty", minimum=0), min_notional,
        margin_asset or quote or "USDT", min_price, max_price or None,
    )  # fmt: skip


def parse_exchange_info(
    obj: object, endpoint: str = "/fapi/v1/exchangeInfo"
) -> dict[str, SymbolRules]:
    """Tick, step, min qty and min notional of every listed symbol, keyed by symbol."""
    rules = [_symbol_rules(f) for f in Fields(obj, endpoint).items("symbols")]
    return {r.symbol: r for r in rules}


def parse_server_time(obj: object, endpoint: str = "/fapi/v1/time") -> int:
    return Fields(obj, endpoint).integer("serverTime", minimum=0)


def parse_listen_key(obj: object, endpoint: str = "/fapi/v1/listenKey") -> str:
    """The key goes into a websocket URL: URL-safe characters only, and short (Binance's: 64)."""
    key = Fields(obj, endpoint).text("listenKey")
    if not key:
        raise MalformedReplyError(endpoint, "field listenKey is empty")
    if not _LISTEN_KEY_RE.fullmatch(key):
        raise MalformedReplyError(endpoint, "field listenKey has characters a URL cannot carry")
    return key


def parse_leverage(obj: object, endpoint: str = "/fapi/v1/leverage") -> int:
    return Fields(obj, endpoint).integer("leverage", minimum=1, maximum=MAX_LEVERAGE)
