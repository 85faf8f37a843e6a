"""The daemon as systemd runs it: `python -m rocky_bot run`, configured by ROCKY_* variables,
JSON log lines on stderr (collected here line by line, so the pipe never fills)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Daemon:
    proc: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def events(self, name: str) -> list[dict]:
        found = []
        for line in self.lines:
            with contextlib.suppress(ValueError):
                doc = json.loads(line)
                if doc.get("event") == name:
                    found.append(doc)
        return found

    async def wait(self, timeout: float) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 5)
        return code


def daemon_env(settings: dict, feed_url: str, keys_path: Path) -> dict[str, str]:
    """What systemd would give it: ROCKY_* settings in the environment, nothing else of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROCKY_")}
    for name, value in settings.items():
        env[f"ROCKY_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    env["ROCKY_KEYS_PATH"] = str(keys_path)
    env["ROCKY_FEED_URL"] = feed_url
    env["ROCKY_LOG_FORMAT"] = "json"
    return env


async def start(settings: dict, feed_url: str, keys_path: Path, cwd: Path) -> Daemon:
    """`python -m rocky_bot run` with `settings` as ROCKY_* variables; its log is collected."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rocky_bot", "run",
        env=daemon_env(settings, feed_url, keys_path), cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, limit=1 << 20,
    )  # fmt: skip
    daemon = Daemon(proc)

    async def read() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            daemon.lines.append(raw.decode(errors="replace").rstrip("\n"))

    daemon.reader = asyncio.create_task(read())
    return daemon


def rss_kb(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
