"""structlog set-up: JSON lines under systemd (journald), a readable console on a terminal.

Libraries (uvicorn, websockets, httpx) log through the stdlib `logging` module; their records
are rendered by the same processors, so under systemd *every* line is one JSON object and a
`jq` filter over the journal never trips on a stray plain-text line.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

#: Libraries whose INFO lines are per-request chatter (httpx logs every request it makes).
_CHATTY = ("httpx", "httpcore", "websockets", "uvicorn.access")
HANDLER_NAME = "rocky_bot"


def configure_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    renderer = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    numeric_level = getattr(logging, level.upper(), logging.INFO)
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info if use_json else structlog.dev.set_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(stream, numeric_level, shared, renderer, use_json)


def _route_stdlib(stream: TextIO, level: int, shared: list, renderer, use_json: bool) -> None:
    """Render stdlib `logging` records (libraries) with the same processors, to the same stream."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if use_json else structlog.dev.set_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)  # configuring twice (tests) must not print every line twice
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
