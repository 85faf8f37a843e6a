"""The one weight table: what the client, the sandbox and the bench charge each call."""

from __future__ import annotations

import pytest

from rocky_bot.binance_api.weights import COSTS, DOCS, cost_of, no_params, with_symbol

CASES = [
    # method, path, has symbol, limit, IP weight as Binance charges it, weight with orders at 1
    ("POST", "/fapi/v1/order", True, None, 0, 1),
    ("PUT", "/fapi/v1/order", True, None, 0, 1),
    ("DELETE", "/fapi/v1/order", True, None, 1, 1),
    ("GET", "/fapi/v1/openOrders", True, None, 1, 1),
    ("GET", "/fapi/v1/openOrders", False, None, 40, 40),
    ("POST", "/fapi/v1/countdownCancelAll", True, None, 10, 10),
    ("GET", "/fapi/v1/balance", False, None, 5, 5),
    ("GET", "/fapi/v3/positionRisk", False, None, 5, 5),
    ("PUT", "/fapi/v1/listenKey", False, None, 1, 1),
    ("POST", "/fapi/v1/batchOrders", True, None, 5, 5),
    ("GET", "/fapi/v1/depth", True, "5", 2, 2),
    ("GET", "/fapi/v1/depth", True, None, 10, 10),  # default limit 500
    ("GET", "/fapi/v1/depth", True, "1000", 20, 20),
    ("GET", "/fapi/v1/klines", True, "99", 1, 1),
    ("GET", "/fapi/v1/klines", True, "100", 2, 2),
    ("GET", "/fapi/v1/klines", True, "1000", 5, 5),
    ("GET", "/fapi/v1/klines", True, "1500", 10, 10),
    ("GET", "/fapi/v1/ticker/24hr", False, None, 40, 40),
]


@pytest.mark.parametrize(("method", "path", "symbol", "limit", "charged", "at_1"), CASES)
def test_each_call_costs_what_binance_documents(method, path, symbol, limit, charged, at_1):
    def params(name: str) -> str | None:
        return {"symbol": "BTCUSDT" if symbol else None, "limit": limit}.get(name)

    cost = cost_of(method, path)
    assert (cost.ip_weight(params), cost.weight_at_1(params)) == (charged, at_1)


def test_orders_count_on_the_order_limits_and_are_the_order_actions():
    assert (
        cost_of("POST", "/fapi/v1/order").orders_10s,
        cost_of("PUT", "/fapi/v1/order").orders_1m,
    ) == (1, 1)
    actions = {key: c.action for key, c in COSTS.items() if c.action}
    assert actions == {
        ("POST", "/fapi/v1/order"): "place",
        ("PUT", "/fapi/v1/order"): "modify",
        ("DELETE", "/fapi/v1/order"): "cancel",
    }


def test_every_entry_cites_a_page_of_binances_usdm_docs():
    assert all(c.doc and c.url.startswith(DOCS) and "#" in c.doc for c in COSTS.values())


def test_symbol_view_knows_only_the_symbol():
    assert with_symbol(True)("symbol") and with_symbol(False)("symbol") is None
    assert no_params("symbol") is None
