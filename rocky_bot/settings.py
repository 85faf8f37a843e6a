"""Every knob of the daemon in one validated object (env prefix `ROCKY_`, optional `.env`).

Loaded once in the CLI and passed down; nothing reads the environment anywhere else, so a test
builds a `Settings(...)` with compressed timings and runs the real code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rocky_bot.config_errors import ConfigError
from rocky_bot.feed import names
from rocky_bot.funnel import Layer

#: Binance's combined public stream; the symbols' bookTicker streams are appended (feed/names.py).
DEFAULT_FEED_URL = "wss://fstream.binance.com/public/stream"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ROCKY_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    # --- inputs -------------------------------------------------------------------------------
    keys_path: Path = Path(".keys.json")
    funnel_replicas: int = Field(1, ge=1)  # copies of the 30-account funnel one keys file may hold
    feed_url: str = DEFAULT_FEED_URL  # without `streams=`: the symbols' streams are appended
    symbols: Annotated[tuple[str, ...], NoDecode] = ("BTCUSDT", "ETHUSDT")
    # Exchange symbol → Binance stream name where they differ (`BTCUSDC=btcusdt`); a symbol not
    # named here follows its own lower-cased name. Names of symbols not traded are allowed, so
    # shards can share one file of settings.
    feed_symbols: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    allow_public_exchange: bool = False  # override the refusal to run against binance.com & co.

    # --- exchange dialect -----------------------------------------------------------------------
    balance_path: str = "/fapi/v1/balance"
    position_risk_path: str = "/fapi/v1/positionRisk"
    recv_window_ms: int = Field(5000, ge=1, le=60000)
    request_timeout_s: float = Field(5.0, gt=0)
    max_reply_bytes: int = Field(1 << 20, ge=4096)  # a larger REST reply is refused, not read
    weight_limit_per_min: int = Field(2400, gt=0)
    user_stream: bool = True  # use the listenKey user data stream where the exchange has it
    user_stream_url: str | None = None  # default: base_url with ws:// scheme
    use_modify: bool = True  # requote with PUT /fapi/v1/order where supported
    taker_ioc: bool = True  # takers send LIMIT IOC; False: GTC + cancel leftovers (spec)
    # The spec's loop (bench profile `spec`): every iteration reads balance, positions and the
    # symbol's open orders over REST. Off: state from acks, the stream and a periodic reconcile.
    poll_each_iteration: bool = False
    band_wakeups: bool = True  # wake a maker the moment the mid leaves its band; False: timer only

    # --- risk -----------------------------------------------------------------------------------
    leverage: int = Field(10, ge=1, le=125)
    cap_anchor_usd: float = Field(150.0, gt=0)
    cap_l1_usd: float = Field(150.0, gt=0)
    cap_l2_usd: float = Field(150.0, gt=0)
    cap_l3_usd: float = Field(400.0, gt=0)
    cap_taker_usd: float = Field(150.0, gt=0)
    breaker_max_errors: int = Field(10, ge=1)
    breaker_error_window_s: float = Field(60.0, gt=0)
    breaker_max_margin_rejects: int = Field(3, ge=1)
    breaker_max_drawdown: float = Field(0.30, gt=0, lt=1)  # of the loss trading does not explain
    # What trading is expected to cost per traded notional (issue 10): Binance's fees, plus the
    # spread a taker crosses (the anchor's 1 bps and part of L1's 5 bps); slack on top.
    breaker_taker_cost_bps: float = Field(8.0, ge=0)
    breaker_maker_cost_bps: float = Field(2.0, ge=0)
    breaker_cost_slack: float = Field(2.0, ge=1)
    breaker_cooldown_s: float = Field(60.0, gt=0)
    breaker_max_cooldown_s: float = Field(900.0, gt=0)
    # countdownCancelAll weighs 10 per account and symbol: a 40 s heartbeat was 90 % of the
    # fleet's weight (issue 14). A dead fleet's quotes may rest up to the countdown; a restarted
    # one cancels them at set-up anyway.
    deadman_countdown_s: float = Field(300.0, ge=0)  # 0 disables the dead-man switch
    deadman_heartbeat_s: float = Field(180.0, gt=0)
    wallet_seed_usd: float = Field(100.0, gt=0)
    # Unhealthy when an account's runway is under this many hours and no account was funded
    # within funding_quiet_s (the funding timer runs hourly): 0 turns the check off.
    runway_alert_h: float = Field(24.0, ge=0)
    fund_floor: float = Field(0.5, gt=0, le=1)  # `rocky-bot fund` tops up wallets under this×seed
    funding_quiet_s: float = Field(7200.0, gt=0)
    wallet_warn_share: float = Field(0.2, ge=0, le=1)

    # --- sizes (issue 13) --------------------------------------------------------------------
    # Order size per layer in USD: a symbol's quantity is this over its first mid, on its step
    # grid, never under its minimum notional. Unset: funnel.DEFAULT_NOTIONAL_USD (about what the
    # spec's BTC sizes are worth), and BTC and ETH keep the spec's exact quantities.
    notional_anchor_usd: float | None = Field(None, gt=0)
    notional_l1_usd: float | None = Field(None, gt=0)
    notional_l2_usd: float | None = Field(None, gt=0)
    notional_l3_usd: float | None = Field(None, gt=0)
    notional_taker_usd: float | None = Field(None, gt=0)
    # A tape that looks like people: each taker order's size is the layer's × e^(σ·z), z drawn
    # per order (median: the spec's size; bounded by the cap and the minimum notional). 0: fixed.
    taker_size_sigma: float = Field(0.5, ge=0, le=2)
    # ... and at most this × the layer's size: a taker order past 2 L1 sizes sweeps the 5 and
    # 6 bps ladders to their caps in one go (issue 10: the funnel's levels nearest the mid).
    taker_size_max: float = Field(2.0, ge=1)
    # Each maker's size × (1 ± this), drawn once per account and symbol (stable, so requotes
    # never resize): the depth chart is not a staircase of equal steps. 0: the spec's sizes.
    maker_size_jitter: float = Field(0.2, ge=0, lt=1)

    # --- budget and shards (issue 13) ---------------------------------------------------------
    # The annual volatility the request budget is planned for: requotes grow with its square.
    budget_annual_vol: float = Field(0.6, gt=0)
    # Other daemons run these accounts on other symbols (one keys file, shards by symbol): the
    # stop leaves the account's listenKey, which they share, to expire instead of deleting it.
    symbol_shard: bool = False
    # A symbol whose feed says nothing this long while the others tick has no reference price:
    # a configuration error (ROCKY_FEED_SYMBOLS), not an outage to wait out.
    feed_first_tick_s: float = Field(60.0, gt=0)

    # --- loops ----------------------------------------------------------------------------------
    anchor_interval_s: float = Field(2.0, gt=0)
    anchor_jitter_s: float = Field(0.5, ge=0)
    anchor_drift_bps: float = Field(1.0, gt=0)
    ladder_interval_s: float = Field(3.0, gt=0)
    ladder_jitter_s: float = Field(1.0, ge=0)
    ladder_drift_bps: float = Field(2.0, gt=0)
    # L2/L3 requote when drifted by this share of their offset (15 bps: 3, 100 bps: 20), never
    # less than ladder_drift_bps; 0: the spec's flat drift. L1 keeps the spec's 2 bps.
    deep_drift_share: float = Field(0.2, ge=0, lt=1)
    taker_interval_s: float = Field(30.0, gt=0)
    taker_jitter_s: float = Field(10.0, ge=0)
    tape_max_gap_s: float = Field(10.0, ge=0)  # wake a taker when a symbol trades no more (0: off)
    taker_lean: bool = True  # lean takers against the makers' net inventory
    min_sleep_s: float = Field(0.5, ge=0)  # the spec's floor under interval ± jitter
    drift_jitter: float = Field(
        0.25, ge=0, lt=1
    )  # each account's drift ×(1 ± this): spreads the herd
    min_requote_interval_s: float = Field(0.05, ge=0)  # after a look that sent: loop.requote_gap
    max_orders_per_10s: int = Field(150, ge=1)  # per-account guard; Binance allows 300/10 s
    reconcile_interval_s: float = Field(120.0, gt=0)  # with the user stream up: a safety net
    position_max_age_s: float = Field(30.0, gt=0)
    balance_interval_s: float = Field(300.0, gt=0)

    # --- feed -----------------------------------------------------------------------------------
    feed_stale_s: float = Field(5.0, gt=0)
    feed_max_jump_pct: float = Field(5.0, gt=0)
    feed_shock_pct: float = Field(2.0, gt=0)
    feed_shock_window_s: float = Field(10.0, gt=0)
    feed_shock_pause_s: float = Field(30.0, ge=0)

    # --- process --------------------------------------------------------------------------------
    stop_timeout_s: float = Field(8.0, gt=0)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    metrics_port: int = Field(9090, ge=0, le=65535)  # 0 = ephemeral (tests)
    metrics_host: str = "127.0.0.1"
    summary_interval_s: float = Field(60.0, gt=0)
    stagger: bool = True  # random start delay in [0, interval) per loop

    @field_validator("symbols", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> object:
        if isinstance(value, str):
            value = [s for s in value.replace(",", " ").split() if s]
        return tuple(str(s).upper() for s in value)  # type: ignore[union-attr]

    @field_validator("symbols")
    @classmethod
    def _non_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one symbol is required")
        return value

    def cap_for(self, layer: Layer) -> float:
        return {
            Layer.ANCHOR: self.cap_anchor_usd,
            Layer.L1: self.cap_l1_usd,
            Layer.L2: self.cap_l2_usd,
            Layer.L3: self.cap_l3_usd,
            Layer.TAKER: self.cap_taker_usd,
        }[layer]

    def notional_for(self, layer: Layer) -> float | None:
        """The layer's order size in USD as set (None: not set, the default applies)."""
        return {
            Layer.ANCHOR: self.notional_anchor_usd,
            Layer.L1: self.notional_l1_usd,
            Layer.L2: self.notional_l2_usd,
            Layer.L3: self.notional_l3_usd,
            Layer.TAKER: self.notional_taker_usd,
        }[layer]

    def drift_for(self, layer: Layer, offset_bps: float) -> float:
        """A maker's drift to requote, before the per-account jitter."""
        if layer is Layer.ANCHOR:
            return self.anchor_drift_bps
        if layer in (Layer.L2, Layer.L3):
            return max(self.ladder_drift_bps, offset_bps * self.deep_drift_share)
        return self.ladder_drift_bps

    @field_validator("feed_symbols", mode="before")
    @classmethod
    def _parse_feed_symbols(cls, value: object) -> dict[str, str]:
        return names.parse_feed_symbols(value)

    def feed_streams(self) -> dict[str, str]:
        """Feed stream name → exchange symbol (`btcusdt@bookTicker` → `BTCUSDT`)."""
        return names.feed_streams(self.symbols, self.feed_symbols)

    def feed_endpoint(self) -> str:
        """The URL the feed dials: `feed_url` with the symbols' streams unless it names its own."""
        return names.feed_url(self.feed_url, self.feed_streams())


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and `.env`), with the CLI's flags on top; a bad value is a
    one-line ConfigError naming the field and its environment variable (exit 78)."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        env = f"ROCKY_{field.upper()}"
        raise ConfigError(f"setting {field} ({env}): {err['msg']}") from None
