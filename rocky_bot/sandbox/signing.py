"""HMAC-SHA256 request signing exactly as Binance checks it, and the sandbox's key registry.

Binance signs `totalParams` = the query string immediately followed by the request body, *as
sent* (no separator, no re-encoding), minus the `signature` parameter itself. Clients put
parameters in either place (python connectors: all in the query; ccxt: POST/PUT in a form body),
so the server must verify over the raw strings, never over re-serialized parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


def sign(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of `payload` keyed by `secret` (what a client appends as `signature`)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def split_signature(raw: str) -> tuple[str, str | None]:
    """Remove the `signature=...` pair from a raw query/body string; return (rest, signature).

    Binance wants the signature last, but a pair elsewhere is cut out the same way so the rest
    of the string stays byte-for-byte what the client signed.
    """
    if "signature=" not in raw:
        return raw, None
    pairs = raw.split("&")
    for i, pair in enumerate(pairs):
        if pair.startswith("signature="):
            del pairs[i]
            return "&".join(pairs), pair[len("signature=") :]
    return raw, None


def signed_payload(query: str, body: str) -> tuple[str, str | None]:
    """(totalParams without the signature, the signature) from the raw query string and body."""
    query_rest, query_sig = split_signature(query)
    body_rest, body_sig = split_signature(body)
    return query_rest + body_rest, query_sig if query_sig is not None else body_sig


def signature_matches(secret: str, payload: str, signature: str) -> bool:
    """Constant-time comparison; Binance treats the hex signature case-insensitively.

    Anything but 64 hex digits is simply no match (`compare_digest` raises on non-ASCII text).
    """
    if not _HEX_SIGNATURE.fullmatch(signature):
        return False
    return hmac.compare_digest(sign(secret, payload), signature.lower())


def new_key() -> str:
    """64 hex characters, the length Binance's HMAC API keys and secrets have."""
    return secrets.token_hex(32)


@dataclass(frozen=True, slots=True)
class Credential:
    account: str
    secret: str

    def __repr__(self) -> str:  # never print a secret
        return f"Credential(account={self.account!r}, secret=***)"


class KeyStore:
    """apiKey → (account, secret). An account may hold several key pairs (one per mint)."""

    def __init__(self) -> None:
        self._keys: dict[str, Credential] = {}

    def mint(self, account: str) -> tuple[str, str]:
        api_key, secret = new_key(), new_key()
        self._keys[api_key] = Credential(account, secret)
        return api_key, secret

    def get(self, api_key: str) -> Credential | None:
        return self._keys.get(api_key)

    def __len__(self) -> int:
        return len(self._keys)
