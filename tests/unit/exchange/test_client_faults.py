"""What the fault matrix taught the client: malformed replies are counted by kind and logged once
per kind per minute; a missing capability learnt by one client is known to every client of the
fleet (one failed request and one log line, not thirty)."""

from __future__ import annotations

import httpx
import pytest
import structlog

from rocky_bot.exchange.capabilities import Capabilities, ReplyProblems, problem_kind
from rocky_bot.exchange.errors import ApiError, MalformedReplyError, UnsupportedError
from rocky_bot.exchange.models import Side

from .conftest import D, FakeTime, order_json

HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def test_problem_kinds_follow_the_parsers_wording():
    assert problem_kind("field [0].orderId is missing") == "missing_field"
    assert problem_kind("field price is null") == "missing_field"
    assert problem_kind("field price is a list, expected a finite decimal") == "wrong_type"
    assert problem_kind("reply is an object, not a list") == "wrong_type"


def test_each_kind_is_logged_once_per_minute_and_always_counted():
    clock = FakeTime()
    problems = ReplyProblems(clock=clock, log_every_s=60)
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            problems.note("html", "a", "/fapi/v1/order", "HTTP 502")
            problems.note("not_json", "b", "/fapi/v1/order", "cut")
        clock.now += 61
        problems.note("html", "a", "/fapi/v1/order", "HTTP 502")
    assert problems.counts == {"html": 6, "not_json": 5}
    assert [(e["event"], e["kind"]) for e in logs] == [
        ("exchange_reply_malformed", "html"),
        ("exchange_reply_malformed", "not_json"),
        ("exchange_reply_malformed", "html"),
    ]


@pytest.mark.parametrize(
    ("reply", "kind", "raised"),
    [
        (
            httpx.Response(502, content=HTML, headers={"Content-Type": "text/html"}),
            "html",
            ApiError,
        ),
        (httpx.Response(200, content=b'[{"orderId": 1, "symb'), "not_json", MalformedReplyError),
        (
            httpx.Response(200, json=[{k: v for k, v in order_json().items() if k != "status"}]),
            "missing_field",
            MalformedReplyError,
        ),
        (httpx.Response(200, json=[order_json(price=["1"])]), "wrong_type", MalformedReplyError),
    ],
)
async def test_malformed_replies_are_counted_by_kind(router, make_client, reply, kind, raised):
    shared = ReplyProblems()
    a, b = make_client("a", reply_problems=shared), make_client("b", reply_problems=shared)
    router.get("/fapi/v1/openOrders").mock(return_value=reply)
    for client in (a, b):
        with pytest.raises(raised):
            await client.open_orders("BTCUSDT")
    assert set(shared.counts) == {kind} and shared.counts[kind] >= 2  # one tally for the fleet


async def test_a_capability_learnt_by_one_client_is_known_to_all(router, make_client):
    shared = Capabilities()
    a, b = make_client("a", capabilities=shared), make_client("b", capabilities=shared)
    put = router.put("/fapi/v1/order").respond(405, json={"code": -1000, "msg": "no PUT"})
    args = dict(order_id=1, side=Side.BUY, qty=D("0.001"), price=D("95000"))
    with structlog.testing.capture_logs() as logs:
        with pytest.raises(UnsupportedError):
            await a.modify_order("BTCUSDT", **args)
        with pytest.raises(UnsupportedError):
            await b.modify_order("BTCUSDT", **args)  # refused locally, no request
    assert put.call_count == 1
    assert [e["event"] for e in logs].count("capability_missing") == 1
