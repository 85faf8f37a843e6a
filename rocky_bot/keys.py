"""Load and validate the keys file: one line per problem, naming file, account and field.

Format: {"base_url": "...", "accounts": [{"id": "mm-anchor", "key": "...", "secret": "..."}]}.
A trading daemon with a bad keys file must not start half-configured, so every check here is
fatal (exit 78) except a partial funnel, which is legal and only warned about. The file is
outside input: it is read through `private_files` (regular, owner-only, bounded), and no error
line echoes a value from it that could be a secret (ids of an unknown shape and URLs are shown
redacted, keys and secrets never).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import AccountSpec, missing_roles, parse_account_id, surplus_accounts
from rocky_bot.private_files import read_private_file, write_private_file

#: A keys file for 30 accounts is about 6 KB; a bigger one is a mistake, and is not read whole.
MAX_KEYS_FILE_BYTES = 1 << 20

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
#: What an id looks like; anything else is shown redacted (it may be a secret pasted there).
_ID_SHAPE = re.compile(r"(?:mm|taker)-[a-z0-9-]{1,40}")
_NO_ROLE = "names no role (expected mm-anchor, mm-l{1,2,3}-{buy,sell}-NNbps or taker-N)"


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

    @property
    def shown_base_url(self) -> str:
        """The base URL for a line a person reads: never a `user:password@` it may carry."""
        return shown_url(self.base_url)


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


def shown_url(url: str) -> str:
    """`url` as a line may show it: without `user:password@`, query or fragment; something
    that is not a printable URL at all is shown redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redacted(url)
    netloc = parts.netloc.rpartition("@")[2]
    shown = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    if not parts.scheme or not netloc or not _printable(shown):
        return redacted(url)
    return shown


def redacted(value: str) -> str:
    """A value from the keys file as an error may show it: its first 4 characters and its
    length, so that a secret pasted into the wrong field is recognisable but not printed."""
    return f"{value[:4]!r}… ({len(value)} chars)"


def load_keys(path: Path | str, *, allow_public_exchange: bool = False) -> KeysFile:
    path = Path(path)
    raw = read_private_file(
        path, what="keys file", max_bytes=MAX_KEYS_FILE_BYTES,
        missing_hint=" (see .keys.example.json)",
    )  # fmt: skip
    doc = _parse_json(path, raw)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a JSON object with base_url and accounts")
    base_url = _base_url(path, doc.get("base_url"), allow_public_exchange)
    accounts_raw = doc.get("accounts")
    if not isinstance(accounts_raw, list) or not accounts_raw:
        raise ConfigError(f"{path}: accounts must be a non-empty list")
    accounts: list[AccountKeys] = []
    seen_ids: set[str] = set()
    seen_keys: dict[str, str] = {}  # API key -> where it was first seen
    for index, item in enumerate(accounts_raw):
        where = f"{path}: accounts[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected an object with id, key and secret")
        account_id = _non_empty_str(item.get("id"), f"{where}: id")
        if not _ID_SHAPE.fullmatch(account_id):
            raise ConfigError(f"{where}: id {redacted(account_id)} {_NO_ROLE}")
        where = f"{path}: account {account_id} (accounts[{index}])"
        try:
            spec = parse_account_id(account_id)
        except ValueError as exc:
            raise ConfigError(f"{where}: id {exc}") from None
        if account_id in seen_ids:
            raise ConfigError(f"{where}: duplicate id {account_id}")
        seen_ids.add(account_id)
        key = _credential(item.get("key"), f"{where}: key")
        secret = _credential(item.get("secret"), f"{where}: secret")
        if key in seen_keys:
            raise ConfigError(
                f"{where}: key is the same as {seen_keys[key]}'s: one API key may serve one "
                "account only (two would quote, cap and cancel over each other)"
            )
        seen_keys[key] = f"account {account_id} (accounts[{index}])"
        accounts.append(AccountKeys(account_id, key, secret, spec))
    return KeysFile(path, base_url.rstrip("/"), tuple(accounts))


def refuse_surplus_accounts(keys: KeysFile, replicas: int) -> None:
    """One keys file, one funnel: a second anchor, a ladder level quoted twice or a sixth taker
    is refused unless ROCKY_FUNNEL_REPLICAS allows that many copies of the funnel (more accounts
    than planned means more exposure, fees and request weight than planned)."""
    surplus = surplus_accounts([a.spec for a in keys.accounts], replicas)
    if surplus:
        more = f" and {len(surplus) - 5} more" if len(surplus) > 5 else ""
        shown = ", ".join(surplus[:5]) + more
        raise ConfigError(
            f"{keys.path}: {len(keys.accounts)} accounts are more than {replicas} funnel(s) of "
            f"30 (one anchor, one account per ladder level, 5 takers): {shown} would be extra; "
            'split the file into shards (README, "Shards") or set ROCKY_FUNNEL_REPLICAS'
        )


def _parse_json(path: Path, raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not JSON (not UTF-8 text at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path}: not a keys file (JSON nested too deep)") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        why = "a number with too many digits" if "digits" in str(exc) else "unreadable value"
        raise ConfigError(f"{path}: not JSON we accept ({why})") from None


def _base_url(path: Path, value: object, allow_public_exchange: bool) -> str:
    base_url = _non_empty_str(value, f"{path}: base_url")
    try:
        parts = urlsplit(base_url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and _printable(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{path}: base_url {shown_url(base_url)} is not an http(s) URL")
    host = public_exchange_host(base_url)
    if host and not allow_public_exchange:
        raise ConfigError(
            f"{path}: base_url host {host} is a public exchange's production API; rocky-bot's "
            "takers trade against its own makers, which is only legitimate on a venue you operate "
            "or may test (override: ROCKY_ALLOW_PUBLIC_EXCHANGE=true)"
        )
    return base_url


def _credential(value: object, what: str) -> str:
    """An API key or secret: it goes into an HTTP header or an HMAC, so printable ASCII only."""
    text = _non_empty_str(value, what)
    if not _printable(text):
        bad = next(i for i, c in enumerate(text) if not " " < c <= "~")
        raise ConfigError(
            f"{what} must be printable ASCII without spaces (character {bad + 1} is not)"
        )
    return text


def _printable(text: str) -> bool:
    return all(" " < c <= "~" for c in text)


def _non_empty_str(value: object, what: str) -> str:
    if value is None:
        raise ConfigError(f"{what} is missing")
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ConfigError(f"{what} is empty")
    return value.strip()


def write_keys(path: Path, base_url: str, accounts: list[tuple[str, str, str]]) -> None:
    """Write a keys file: mode 600 from the first byte, atomically, never through a symlink."""
    doc = {
        "base_url": base_url,
        "accounts": [{"id": i, "key": k, "secret": s} for i, k, s in accounts],
    }
    data = (json.dumps(doc, indent=2) + "\n").encode("utf-8")
    write_private_file(path, data, what="keys file")
