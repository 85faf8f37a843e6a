"""What fault injection can be told (the admin POST body) and what is active now: plain values.

Kept apart from the injector so the admin routes and tests can name a fault without the
machinery that applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rocky_bot.sandbox import fault_replies as replies

Capability = Literal["modify", "countdown", "user_stream", "ioc", "account"]
MalformedKind = Literal["not_json", "html", "missing_field", "wrong_type"]


class FaultUpdate(BaseModel):
    """The POST body: every field optional; unknown fields are refused (a typo is not a no-op)."""

    model_config = ConfigDict(extra="forbid")
    latency_ms: int | None = Field(None, ge=0, le=60_000)
    error_rate: float | None = Field(None, ge=0, le=1)
    timeout_rate: float | None = Field(None, ge=0, le=1)
    hang_s: float | None = Field(None, gt=0, le=600)
    malformed_rate: float | None = Field(None, ge=0, le=1)
    malformed_kinds: list[MalformedKind] | None = Field(None, min_length=1)
    rate_limit: bool | None = None
    ban: bool | None = None
    retry_after_s: int | None = Field(None, ge=0, le=86_400)
    clock_skew_ms: int | None = Field(None, ge=-3_600_000, le=3_600_000)
    reject_margin: bool | None = None
    unsupported: list[Capability] | None = None
    feed_freeze: bool | None = None
    feed_drop: bool | None = None
    feed_garbage_rate: float | None = Field(None, ge=0, le=1)
    price_jump_pct: float | None = Field(None, gt=-50, lt=100)
    down_s: float | None = Field(None, gt=0, le=3600)
    seed: int | None = None


@dataclass
class ActiveFaults:
    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    hang_s: float = 30.0
    malformed_rate: float = 0.0
    malformed_kinds: list[str] = field(default_factory=lambda: list(replies.MALFORMED_KINDS))
    rate_limit: bool = False
    ban: bool = False
    retry_after_s: int = 5
    clock_skew_ms: int = 0
    reject_margin: bool = False
    unsupported: list[str] = field(default_factory=list)
    feed_freeze: bool = False
    feed_drop: bool = False
    feed_garbage_rate: float = 0.0

    def touches_http(self) -> bool:
        return bool(
            self.latency_ms or self.error_rate or self.timeout_rate or self.malformed_rate
            or self.rate_limit or self.ban or self.unsupported
        )  # fmt: skip
