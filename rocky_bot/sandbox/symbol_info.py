"""GET /fapi/v1/exchangeInfo: the venue's symbols, filters and rate limits in Binance's shape."""

from __future__ import annotations

from typing import Any

from rocky_bot.sandbox.config import SandboxConfig, SymbolSpec


def symbol_info(spec: SymbolSpec, asset: str) -> dict[str, Any]:
    min_price = spec.min_price if spec.min_price is not None else spec.tick_size
    lot = {"minQty": f"{spec.min_qty:f}", "maxQty": f"{spec.max_qty:f}"}
    return {
        "symbol": spec.symbol,
        "pair": spec.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": spec.base_asset,
        "quoteAsset": asset,
        "marginAsset": asset,
        "pricePrecision": spec.price_precision,
        "quantityPrecision": spec.quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": f"{spec.market_take_bound:f}",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": f"{min_price:f}",
                "maxPrice": f"{spec.max_price:f}",
                "tickSize": f"{spec.tick_size:f}",
            },
            {"filterType": "LOT_SIZE", **lot, "stepSize": f"{spec.step_size:f}"},
            {"filterType": "MARKET_LOT_SIZE", **lot, "stepSize": f"{spec.step_size:f}"},
            {"filterType": "MAX_NUM_ORDERS", "limit": spec.max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": f"{spec.min_notional:f}"},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": f"{spec.multiplier_up:.4f}",
                "multiplierDown": f"{spec.multiplier_down:.4f}",
                "multiplierDecimal": 4,
            },
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def exchange_info(config: SandboxConfig, server_time_ms: int) -> dict[str, Any]:
    asset = config.margin_asset
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": config.weight_limit_per_min,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": config.order_limit_per_min,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": config.order_limit_per_10s,
            },
        ],
        "exchangeFilters": [],
        "assets": [{"asset": asset, "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [symbol_info(spec, asset) for spec in config.symbols],
    }
