"""Load and validate the keys file: one line per problem, naming file, account and field.

Format: {"base_url": "...", "accounts": [{"id": "mm-anchor", "key": "...", "secret": "..."}]}.
A trading daemon with a bad keys file must not start half-configured, so every check here is
fatal (exit 78) except a partial funnel, which is legal and only warned about.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import AccountSpec, missing_roles, parse_account_id

#: Production hosts of public exchanges: the takers trade against our own makers, which is wash
#: trading anywhere but a venue we operate or are allowed to test.
PUBLIC_EXCHANGE_DOMAINS = (
    "binance.com", "binance.us", "bybit.com", "okx.com", "okex.com", "bitget.com", "kucoin.com",
    "gate.io", "gate.com", "huobi.com", "htx.com", "mexc.com", "kraken.com", "bitmex.com",
    "deribit.com", "coinbase.com", "bitfinex.com", "bitstamp.net", "hyperliquid.xyz",
    "bingx.com", "phemex.com", "crypto.com", "dydx.exchange",
)  # fmt: skip
_TEST_LABELS = ("testnet", "demo", "sandbox")
_TEST_LABELS_SET = frozenset(_TEST_LABELS)


@dataclass(frozen=True, slots=True)
class AccountKeys:
    account_id: str
    key: str
    secret: str = field(repr=False)
    spec: AccountSpec

    def __repr__(self) -> str:  # never print a secret, even by accident in a traceback
        return f"AccountKeys({self.account_id!r}, key={self.key[:6]}…)"


@dataclass(frozen=True, slots=True)
class KeysFile:
    path: Path
    base_url: str
    accounts: tuple[AccountKeys, ...]

    @property
    def missing(self) -> list[str]:
        return missing_roles([a.account_id for a in self.accounts])


def public_exchange_host(base_url: str) -> str | None:
    """The host if `base_url` points at a public exchange's production API, else None."""
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")  # `binance.com.` is binance
    labels = host.split(".")
    if any(
        label.startswith(_TEST_LABELS) or not _TEST_LABELS_SET.isdisjoint(label.split("-"))
        for label in labels[:-2]
    ):  # testnet.*, demo-fapi.*, api-testnet.* (Bybit), openapi-sandbox.* (KuCoin)
        return None
    for domain in PUBLIC_EXCHANGE_DOMAINS:
        if host == domain or host.endswith("." + domain):
            return host
    return None


def check_permissions(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path}: readable by group or others (mode {stat.S_IMODE(mode):o}); "
            f"fix with: chmod 600 {path}"
        )


def load_keys(path: Path | str, *, allow_public_exchange: bool = False) -> KeysFile:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: keys file not found (see .keys.example.json)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read keys file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not JSON (not UTF-8 text at byte {exc.start})") from None
    check_permissions(path)
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a JSON object with base_url and accounts")
    base_url = _non_empty_str(doc.get("base_url"), f"{path}: base_url")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{path}: base_url {base_url!r} is not an http(s) URL")
    host = public_exchange_host(base_url)
    if host and not allow_public_exchange:
        raise ConfigError(
            f"{path}: base_url host {host} is a public exchange's production API; rocky-bot's "
            "takers trade against its own makers, which is only legitimate on a venue you operate "
            "or may test (override: ROCKY_ALLOW_PUBLIC_EXCHANGE=true)"
        )
    accounts_raw = doc.get("accounts")
    if not isinstance(accounts_raw, list) or not accounts_raw:
        raise ConfigError(f"{path}: accounts must be a non-empty list")
    accounts: list[AccountKeys] = []
    seen: set[str] = set()
    for index, item in enumerate(accounts_raw):
        where = f"{path}: accounts[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected an object with id, key and secret")
        account_id = _non_empty_str(item.get("id"), f"{where}: id")
        where = f"{path}: account {account_id} (accounts[{index}])"
        key = _non_empty_str(item.get("key"), f"{where}: key")
        secret = _non_empty_str(item.get("secret"), f"{where}: secret")
        if account_id in seen:
            raise ConfigError(f"{where}: duplicate id {account_id}")
        seen.add(account_id)
        try:
            spec = parse_account_id(account_id)
        except ValueError as exc:
            raise ConfigError(f"{where}: id {exc}") from None
        accounts.append(AccountKeys(account_id, key, secret, spec))
    return KeysFile(path, base_url.rstrip("/"), tuple(accounts))


def _non_empty_str(value: object, what: str) -> str:
    if value is None:
        raise ConfigError(f"{what} is missing")
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ConfigError(f"{what} is empty")
    return value.strip()


def write_keys(path: Path, base_url: str, accounts: list[tuple[str, str, str]]) -> None:
    """Write a keys file with mode 600 from the first byte (never briefly world-readable)."""
    doc = {
        "base_url": base_url,
        "accounts": [{"id": i, "key": k, "secret": s} for i, k, s in accounts],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a stale .tmp from a crash keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
