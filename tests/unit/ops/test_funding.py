"""`rocky-bot fund`: who is topped up, by how much, in which asset; what a failure looks like.

The exchange is faked at the transport (respx): exchangeInfo names the margin asset, each
account's balance list is served by its API key, and the faucet records what it was asked.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import httpx
import pytest
import respx
import structlog
from hypothesis import given
from hypothesis import strategies as st

from rocky_bot.cli import main
from rocky_bot.keys import write_keys
from rocky_bot.ops.funding import plan_top_ups

D = Decimal
BASE = "http://rocky.test"
TOKEN = "adm-fund-test-token-0123456789"


@pytest.mark.parametrize(
    ("wallet", "floor", "to", "expected"),
    [
        (D("49.99"), D(50), D(100), D("50.01")),  # under the floor: back up to `to`
        (D(50), D(50), D(100), None),  # at the floor: left alone
        (D(0), D(50), D(100), D(100)),  # empty
        (D("-3.5"), D(50), D(100), D("103.5")),  # negative after losses: still to `to`
        (D("10.001"), D(50), D(100), D("89.999").quantize(D("0.01"), rounding="ROUND_UP")),
        (None, D(50), D(100), None),  # unreadable: never guessed at
    ],
)
def test_plan_top_ups(wallet, floor, to, expected) -> None:
    plan = plan_top_ups({"taker-1": wallet}, floor, to)
    assert [t.amount for t in plan] == ([] if expected is None else [expected])


@given(
    wallets=st.lists(st.decimals(-1000, 1000, places=4), max_size=30),
    floor=st.decimals(1, 100, places=2),
    extra=st.decimals(0, 100, places=2),
)
def test_a_funded_wallet_reaches_the_target_and_only_wallets_under_the_floor_are_funded(
    wallets, floor, extra
) -> None:
    to = floor + extra
    plan = plan_top_ups({f"a{i}": w for i, w in enumerate(wallets)}, floor, to)
    funded = {t.account_id for t in plan}
    for i, wallet in enumerate(wallets):
        assert (f"a{i}" in funded) == (wallet < floor and wallet < to)
    for t in plan:
        assert to <= t.wallet + t.amount < to + D("0.01")


ACCOUNTS = {  # id → (key, balances)
    "mm-anchor": ("key-anchor", {"USDT": "10", "USDC": "80"}),  # USDC counts: 80, not funded
    "taker-1": ("key-taker-1", {"USDT": "95", "USDC": "20.5"}),  # 20.5 USDC: funded +79.50
    "taker-2": ("key-taker-2", {"USDT": "500"}),  # no USDC at all: 0, funded +100
    # fees past an empty wallet: the one that most needs the faucet must still be readable
    "taker-3": ("key-taker-3", {"USDC": "-12.25"}),  # funded +112.25
}


def exchange(faucet_fails_for: set[str] = frozenset()) -> tuple[respx.MockRouter, list[dict]]:
    credits: list[dict] = []
    router = respx.mock(base_url=BASE, assert_all_called=False)
    router.get("/fapi/v1/time").respond(json={"serverTime": 1_700_000_000_000})
    symbol = {
        "symbol": "BTCUSDC", "status": "TRADING", "marginAsset": "USDC", "quoteAsset": "USDC",
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": "0.1", "minPrice": "0.1", "maxPrice": "1e6"},
            {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "100"},
        ],
    }  # fmt: skip
    router.get("/fapi/v1/exchangeInfo").respond(json={"symbols": [symbol]})
    by_key = {key: balances for key, balances in ACCOUNTS.values()}

    def balance(request: httpx.Request) -> httpx.Response:
        held = by_key[request.headers["X-MBX-APIKEY"]]
        return httpx.Response(200, json=[
            {"asset": a, "balance": v, "crossWalletBalance": v, "availableBalance": v}
            for a, v in held.items()
        ])  # fmt: skip

    router.get("/fapi/v1/balance").mock(side_effect=balance)

    def faucet(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-Admin-Token"] == TOKEN
        body = json.loads(request.content)
        if body["apiKey"] in faucet_fails_for:
            return httpx.Response(503, text="faucet down")
        credits.append(body)
        return httpx.Response(200, json={"apiKey": body["apiKey"], "asset": "USDC",
                                         "balance": "100"})  # fmt: skip

    router.post("/admin/v1/faucet").mock(side_effect=faucet)
    return router, credits


@pytest.fixture(autouse=True)
def logging_left_as_found():
    """`rocky-bot fund` configures logging onto the test's captured stderr: undo it after, or
    later tests would log into a closed stream."""
    yield
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "rocky_bot"]:
        root.removeHandler(handler)


@pytest.fixture
def keys_file(tmp_path, monkeypatch):
    for var in ("ROCKY_ADMIN_TOKEN", "ROCKY_ADMIN_TOKEN_FILE", "ROCKY_FUND_FLOOR"):
        monkeypatch.delenv(var, raising=False)
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    monkeypatch.setenv("ROCKY_ADMIN_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("ROCKY_SYMBOLS", "BTCUSDC")
    path = tmp_path / "keys.json"
    write_keys(path, BASE, [(i, key, "s" * 40) for i, (key, _) in ACCOUNTS.items()])
    return path


def test_fund_reads_the_margin_asset_and_tops_up_only_wallets_under_the_floor(
    keys_file, capsys
) -> None:
    router, credits = exchange()
    with router:
        assert main(["fund", "--keys", str(keys_file)]) == 0
    assert sorted((c["apiKey"], c["amount"]) for c in credits) == [
        ("key-taker-1", "79.50"),
        ("key-taker-2", "100.00"),
        ("key-taker-3", "112.25"),
    ]
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert rows["mm-anchor"].split()[1:3] == ["80.00", "-"]
    assert rows["taker-1"].split()[1:3] == ["20.50", "+79.50"]
    assert rows["taker-3"].split()[1:3] == ["-12.25", "+112.25"]
    assert out.splitlines()[-1].startswith("3 funded (+291.75 USDC), floor 50, to 100; 0 failed")
    funded = [json.loads(line) for line in err.splitlines() if "wallet_funded" in line]
    assert {f["account"] for f in funded} == {"taker-1", "taker-2", "taker-3"}
    assert TOKEN not in out + err


def test_floor_and_target_come_from_the_command_line(keys_file, capsys) -> None:
    router, credits = exchange()
    with router:
        assert main(["fund", "--keys", str(keys_file), "--floor", "0.9", "--to", "150"]) == 0
    assert sorted((c["apiKey"], c["amount"]) for c in credits) == [
        ("key-anchor", "70.00"),  # 80 < 90 now
        ("key-taker-1", "129.50"),
        ("key-taker-2", "150.00"),
        ("key-taker-3", "162.25"),
    ]


def test_a_failed_top_up_is_shown_and_makes_the_exit_status_non_zero(keys_file, capsys) -> None:
    router, credits = exchange(faucet_fails_for={"key-taker-2"})
    with router:
        assert main(["fund", "--keys", str(keys_file)]) == 1
    out, err = capsys.readouterr()
    row = next(line for line in out.splitlines() if line.startswith("taker-2"))
    assert "faucet: /admin/v1/faucet: HTTP 503" in row
    assert [c["apiKey"] for c in credits] == ["key-taker-1", "key-taker-3"]  # others funded
    assert "1 account(s) failed" in err


def test_the_admin_token_is_never_taken_from_the_command_line(keys_file, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["fund", "--keys", str(keys_file), "--admin-token", "sekrit-on-argv"])
    assert "sekrit-on-argv" not in capsys.readouterr().err


def test_no_token_is_a_config_error_before_any_request(keys_file, monkeypatch, capsys) -> None:
    monkeypatch.delenv("ROCKY_ADMIN_TOKEN_FILE")
    router, _ = exchange()
    with router:
        assert main(["fund", "--keys", str(keys_file)]) == 78
    assert router.calls.call_count == 0
    assert "admin token missing" in capsys.readouterr().err
