"""Shared by every test: each test starts from structlog's defaults.

A command run in-process (`main([...])`) configures logging onto the `sys.stderr` of that
moment, which under pytest is the test's capture file, closed when the test ends; a later test
that logs would then fail on a closed file, so the configuration goes with the test that made it.
"""

from __future__ import annotations

import logging

import pytest
import structlog

from rocky_bot.ops.logs import HANDLER_NAME


@pytest.fixture(autouse=True)
def _logging_back_to_defaults():
    yield
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
