"""Settings: the documented defaults, the ROCKY_ environment, and an optional .env file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import Layer
from rocky_bot.settings import DEFAULT_FEED_URL, Settings, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No ROCKY_* from the developer's shell and no .env from the checkout leak into a test."""
    for name in list(os.environ):
        if name.startswith("ROCKY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults():
    s = Settings()
    assert s.feed_url == DEFAULT_FEED_URL
    assert s.feed_endpoint() == (
        "wss://fstream.binance.com/public/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker"
    )
    assert "/public/" in s.feed_url
    assert s.symbols == ("BTCUSDT", "ETHUSDT")
    assert s.keys_path == Path(".keys.json")
    assert s.leverage == 10
    assert s.metrics_port == 9090
    assert s.metrics_host == "127.0.0.1"
    assert s.allow_public_exchange is False
    assert s.balance_path == "/fapi/v1/balance"
    assert s.position_risk_path == "/fapi/v1/positionRisk"
    assert s.feed_stale_s == 5.0
    assert s.stop_timeout_s == 8.0
    assert s.log_format == "auto"


@pytest.mark.parametrize(
    ("layer", "cap"),
    [(Layer.ANCHOR, 150), (Layer.L1, 150), (Layer.L2, 150), (Layer.L3, 400), (Layer.TAKER, 150)],
)
def test_default_cap_per_layer(layer, cap):
    assert Settings().cap_for(layer) == cap


@pytest.mark.parametrize(
    ("attr", "interval", "jitter", "drift"),
    [("anchor", 2.0, 0.5, 1.0), ("ladder", 3.0, 1.0, 2.0), ("taker", 30.0, 10.0, None)],
)
def test_default_loop_timings_are_the_specs(attr, interval, jitter, drift):
    s = Settings()
    assert getattr(s, f"{attr}_interval_s") == interval
    assert getattr(s, f"{attr}_jitter_s") == jitter
    if drift is not None:
        assert getattr(s, f"{attr}_drift_bps") == drift


def test_default_breaker_is_designs():
    s = Settings()
    assert (s.breaker_max_errors, s.breaker_error_window_s) == (10, 60.0)
    assert s.breaker_max_margin_rejects == 3
    assert s.breaker_max_drawdown == 0.30
    assert (s.breaker_cooldown_s, s.breaker_max_cooldown_s) == (60.0, 900.0)


def test_environment_uses_the_rocky_prefix(monkeypatch):
    monkeypatch.setenv("ROCKY_LEVERAGE", "5")
    monkeypatch.setenv("ROCKY_KEYS_PATH", "/etc/rocky/keys.json")
    monkeypatch.setenv("ROCKY_METRICS_PORT", "9191")
    monkeypatch.setenv("ROCKY_CAP_L3_USD", "500")
    monkeypatch.setenv("ROCKY_ALLOW_PUBLIC_EXCHANGE", "true")
    monkeypatch.setenv("LEVERAGE", "7")  # unprefixed: not ours
    s = Settings()
    assert s.leverage == 5
    assert s.keys_path == Path("/etc/rocky/keys.json")
    assert s.metrics_port == 9191
    assert s.cap_for(Layer.L3) == 500
    assert s.allow_public_exchange is True


@pytest.mark.parametrize(
    ("raw", "symbols"),
    [
        ("btcusdt,ethusdt", ("BTCUSDT", "ETHUSDT")),
        ("BTCUSDT", ("BTCUSDT",)),
        (" btcusdt , ethusdt ", ("BTCUSDT", "ETHUSDT")),
        ("btcusdt ethusdt solusdt", ("BTCUSDT", "ETHUSDT", "SOLUSDT")),
        ("btcusdt,,ethusdt,", ("BTCUSDT", "ETHUSDT")),
    ],
)
def test_symbols_from_the_environment(monkeypatch, raw, symbols):
    monkeypatch.setenv("ROCKY_SYMBOLS", raw)
    assert Settings().symbols == symbols


@pytest.mark.parametrize("raw", ["", " , "])
def test_no_symbols_is_an_error(monkeypatch, raw):
    monkeypatch.setenv("ROCKY_SYMBOLS", raw)
    with pytest.raises(ValidationError, match="at least one symbol"):
        Settings()


def test_symbols_given_in_code_are_upper_cased():
    assert Settings(symbols=["btcusdt"]).symbols == ("BTCUSDT",)


def test_feed_streams_map_to_exchange_symbols():
    assert Settings().feed_streams() == {
        "btcusdt@bookTicker": "BTCUSDT",
        "ethusdt@bookTicker": "ETHUSDT",
    }
    assert Settings(symbols=("SOLUSDT",)).feed_streams() == {"solusdt@bookTicker": "SOLUSDT"}


def test_the_feed_url_follows_the_symbols(monkeypatch):
    monkeypatch.setenv("ROCKY_SYMBOLS", "BTCUSDT,SOLUSDT,1000PEPEUSDT")
    assert Settings().feed_endpoint() == (
        "wss://fstream.binance.com/public/stream?streams="
        "btcusdt@bookTicker/solusdt@bookTicker/1000pepeusdt@bookTicker"
    )


def test_feed_symbols_name_the_stream_of_a_symbol_the_exchange_spells_otherwise(monkeypatch):
    monkeypatch.setenv("ROCKY_SYMBOLS", "BTCUSDC,ETHUSDT")
    monkeypatch.setenv("ROCKY_FEED_SYMBOLS", "BTCUSDC=btcusdt, XBTUSD=btcusdt")  # extra: ignored
    s = Settings()
    assert s.feed_symbols == {"BTCUSDC": "btcusdt", "XBTUSD": "btcusdt"}
    assert s.feed_streams() == {"btcusdt@bookTicker": "BTCUSDC", "ethusdt@bookTicker": "ETHUSDT"}
    assert s.feed_endpoint().endswith("?streams=btcusdt@bookTicker/ethusdt@bookTicker")


def test_a_feed_url_that_names_its_streams_is_dialled_as_written():
    url = "ws://127.0.0.1:9/reference/stream?streams=btcusdt@bookTicker"
    assert Settings(feed_url=url).feed_endpoint() == url
    raw = "wss://fstream.binance.com/ws/btcusdt@bookTicker"
    assert Settings(feed_url=raw).feed_endpoint() == raw


@pytest.mark.parametrize("raw", ["BTCUSDT", "BTCUSDT=btc-usdt", "=btcusdt"])
def test_a_malformed_feed_symbol_mapping_is_one_clear_line(monkeypatch, raw):
    monkeypatch.setenv("ROCKY_FEED_SYMBOLS", raw)
    says = r"^setting feed_symbols \(ROCKY_FEED_SYMBOLS\): .*SYMBOL=stream"
    with pytest.raises(ConfigError, match=says):
        load_settings()


def test_dot_env_in_the_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text(
        "ROCKY_LEVERAGE=3\nROCKY_SYMBOLS=ethusdt\nROCKY_LOG_FORMAT=json\nOTHER_TOOL=1\n"
    )
    s = Settings()
    assert (s.leverage, s.symbols, s.log_format) == (3, ("ETHUSDT",), "json")


def test_the_environment_wins_over_dot_env(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("ROCKY_LEVERAGE=3\n")
    monkeypatch.setenv("ROCKY_LEVERAGE", "4")
    assert Settings().leverage == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ROCKY_LEVERAGE", "abc"),
        ("ROCKY_LEVERAGE", "0"),
        ("ROCKY_LEVERAGE", "126"),
        ("ROCKY_METRICS_PORT", "70000"),
        ("ROCKY_CAP_L1_USD", "-1"),
        ("ROCKY_LOG_FORMAT", "xml"),
        ("ROCKY_BREAKER_MAX_DRAWDOWN", "1.5"),
    ],
)
def test_invalid_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert info.value.errors()[0]["loc"] == (name.removeprefix("ROCKY_").lower(),)


def test_settings_are_immutable():
    s = Settings()
    with pytest.raises(ValidationError):
        s.leverage = 20  # type: ignore[misc]
