"""Command line: `rocky-bot run | plan | sandbox | mint | fund | reset | status | book | check-keys
| bench | soak`.

Every user-facing failure is one line on stderr and an exit status (78 for configuration, as
systemd's RestartPreventExitStatus expects); a traceback is a bug.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rocky_bot.config_errors import EX_CONFIG, ConfigError
from rocky_bot.settings import load_settings


def run_async(coro) -> int:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvloop is a dependency; stay runnable without it
        return asyncio.run(coro)


def cmd_run(args: argparse.Namespace) -> int:
    import structlog

    from rocky_bot.daemon import run_daemon
    from rocky_bot.keys import load_keys, refuse_surplus_accounts
    from rocky_bot.ops.logs import configure_logging

    settings = load_settings(keys_path=args.keys)
    keys = load_keys(settings.keys_path, allow_public_exchange=settings.allow_public_exchange)
    refuse_surplus_accounts(keys, settings.funnel_replicas)
    configure_logging(settings.log_format, settings.log_level)
    if keys.missing:
        structlog.get_logger().warning("funnel_incomplete", missing=keys.missing)
    return run_async(run_daemon(settings, keys))


def cmd_check_keys(args: argparse.Namespace) -> int:
    from rocky_bot.ops.checks import check_keys

    settings = load_settings(keys_path=args.keys)
    return check_keys(settings, online=args.online)


class _RefusedOnArgv(argparse.Action):
    """A secret option that is no longer accepted: the command line is readable by every local
    user (`ps`). The error names the option and the way instead, and never echoes the value."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(
            f"{option_string} is no longer accepted (the command line is visible to every local "
            "user): set ROCKY_ADMIN_TOKEN, or ROCKY_ADMIN_TOKEN_FILE to a mode-600 file holding it"
        )


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text}: expected a number > 0")
    return value


def _lazy(module: str, func: str) -> Callable[[argparse.Namespace], int]:
    def call(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), func)(args)

    return call


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rocky-bot", description="Market-making fleet for Rocky's demo exchange."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the fleet (the systemd service's command)")
    p.add_argument("--keys", type=Path, help="keys file (default ROCKY_KEYS_PATH or ./.keys.json)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check-keys", help="validate the keys file (--online: one signed read each)")
    p.add_argument("--keys", type=Path)
    p.add_argument("--online", action="store_true", help="also read each account's balance")
    p.set_defaults(func=cmd_check_keys)

    p = sub.add_parser("plan", help="the request weight the settings will cost, per symbol")
    p.add_argument("--keys", type=Path, help="keys file (default: ROCKY_KEYS_PATH, else 30)")
    p.add_argument("--symbols", default=None, help="instead of ROCKY_SYMBOLS")
    p.set_defaults(func=_lazy("rocky_bot.ops.plan_cli", "cmd_plan"))

    p = sub.add_parser("sandbox", help="run the local sandbox exchange and the fleet against it")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--admin-token", action=_RefusedOnArgv, help=argparse.SUPPRESS)
    p.add_argument("--no-fleet", action="store_true", help="only the exchange")
    p.add_argument(
        "--symbols", default="BTCUSDT,ETHUSDT",
        help="what it lists (and the fleet trades), from its table of USDⓈ-M perpetuals",
    )  # fmt: skip
    p.add_argument("--duration", type=float, default=None, help="stop cleanly after N seconds")
    p.add_argument("--keys-out", type=Path, default=Path(".sandbox/keys.json"))
    p.add_argument(
        "--token-out", type=Path, default=Path(".sandbox/admin-token"),
        help="where a generated admin token is written (mode 600); it is never printed",
    )  # fmt: skip
    p.add_argument("--view-every", type=float, default=5.0, help="seconds between live views")
    p.add_argument("--vol", type=float, default=0.6, help="annual volatility of the synthetic mid")
    p.add_argument("--tick-rate", type=float, default=20.0, help="bookTicker messages/s per symbol")
    p.add_argument("--replay", default=None, help="replay a recorded bookTicker file instead")
    p.add_argument("--seed", type=int, default=None, help="seed the synthetic price path")
    p.add_argument(
        "--fee-multiplier", type=_positive, default=1.0,
        help="charge maker and taker fees × this (an accelerated life test; default 1)",
    )  # fmt: skip
    p.add_argument(
        "--fleet-status-url", default=None,
        help="with --no-fleet: a daemon's /status URL for the page's fleet panel",
    )  # fmt: skip
    p.set_defaults(func=_lazy("rocky_bot.demo", "cmd_sandbox"))

    p = sub.add_parser("mint", help="create the 30 funnel accounts (or --top-up their wallets)")
    p.add_argument("--base-url", required=True)
    p.add_argument("--out", type=Path, default=Path(".keys.json"))
    p.add_argument("--admin-token", action=_RefusedOnArgv, help=argparse.SUPPRESS)
    p.add_argument("--amount", type=float, default=100.0)
    p.add_argument("--accounts", type=int, default=30)
    p.add_argument("--force", action="store_true", help="overwrite an existing keys file")
    p.add_argument(
        "--top-up", action="store_true",
        help="fund the accounts of --out up to --amount (an alias of `rocky-bot fund`)",
    )  # fmt: skip
    p.set_defaults(func=_lazy("rocky_bot.ops.onboarding", "cmd_mint"))

    p = sub.add_parser("fund", help="top every wallet under the floor back up (admin faucet)")
    p.add_argument("--keys", type=Path, help="keys file (default ROCKY_KEYS_PATH or ./.keys.json)")
    p.add_argument(
        "--floor", type=float, default=None,
        help="fund wallets under this share of ROCKY_WALLET_SEED_USD (default ROCKY_FUND_FLOOR)",
    )  # fmt: skip
    p.add_argument("--to", type=float, default=100.0, help="top each one up to this (USD)")
    p.add_argument("--admin-token", action=_RefusedOnArgv, help=argparse.SUPPRESS)
    p.set_defaults(func=_lazy("rocky_bot.ops.funding", "cmd_fund"))

    p = sub.add_parser("reset", help="cancel every open order (and --flatten positions)")
    p.add_argument("--keys", type=Path)
    p.add_argument("--flatten", action="store_true", help="also close positions (reduceOnly)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=_lazy("rocky_bot.ops.reset", "cmd_reset"))

    p = sub.add_parser("status", help="print the running daemon's status; non-zero if unhealthy")
    p.add_argument("--url", default=None, help="default http://127.0.0.1:$ROCKY_METRICS_PORT")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lazy("rocky_bot.ops.status_cli", "cmd_status"))

    p = sub.add_parser("book", help="draw an exchange's depth as a funnel")
    p.add_argument("symbol", nargs="?", default="BTCUSDT")
    p.add_argument("--base-url", default="http://127.0.0.1:8765")
    p.add_argument("--depth", type=int, default=20)
    p.set_defaults(func=_lazy("rocky_bot.ops.book", "cmd_book"))

    p = sub.add_parser("bench", help="benchmark the fleet against the sandbox; JSON report")
    p.add_argument("--duration", type=float, default=120.0)
    p.add_argument("--accounts", type=int, default=30)
    p.add_argument("--vol", type=float, default=0.6)
    p.add_argument("--tick-rate", type=float, default=100.0)
    p.add_argument(
        "--profile",
        choices=("ours", "spec", "both"),
        default="ours",
        help="ours: the daemon as shipped; spec: the seed's design; both: one then the other",
    )
    p.add_argument("--seeds", default=None, help="comma list (default ROCKY_BENCH_SEED or 1)")
    p.add_argument(
        "--symbols", default="BTCUSDT,ETHUSDT",
        help="listed and traded (sharded by symbol when one IP's budget cannot carry them)",
    )  # fmt: skip
    p.add_argument(
        "--restart-s",
        type=float,
        default=60.0,
        help="SIGKILL, restart at once, watch this long for 429s (0: skip)",
    )
    p.add_argument("--out", type=Path, default=Path("bench-report.json"))
    p.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help="write PROFILE-seedN.json per run here (the README's reports)",
    )
    p.set_defaults(func=_lazy("rocky_bot.bench.run", "cmd_bench"))

    p = sub.add_parser("soak", help="an accelerated week: fees × days·86400/duration; JSON report")
    p.add_argument("--days", type=_positive, default=7.0, help="simulated days")
    p.add_argument("--duration", type=_positive, default=3600.0, help="real seconds")
    p.add_argument("--out", type=Path, default=Path("soak-report.json"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tick-rate", type=_positive, default=20.0, help="bookTicker msgs/s/symbol")
    p.add_argument("--keep", type=Path, default=None, help="keep logs and tally in this directory")
    p.set_defaults(func=_lazy("rocky_bot.bench.soak", "cmd_soak"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"rocky-bot: {exc}", file=sys.stderr)
        return EX_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
