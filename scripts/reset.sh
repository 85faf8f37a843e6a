#!/usr/bin/env bash
# Put every account of the fleet back to flat: a thin wrapper around `rocky-bot reset`, runnable
# from any directory, that defaults to the repository's keys file like the systemd unit does.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/reset.sh [--keys PATH] [--flatten] [--yes]

Cancel every open order of every account in the keys file; with --flatten also close every
position with reduceOnly orders. Asks for confirmation unless --yes, prints what it did per
account, and exits non-zero if any account could not be reset.

Stop the daemon first (systemctl --user stop rocky-bot), or it will quote again at once.

  --keys PATH   keys file (default: .keys.json at the repository root)
  --flatten     also close positions (reduceOnly)
  --yes         do not ask for confirmation

Environment:
  ROCKY_BOT_CMD  how to run rocky-bot (default: uv run --frozen --project REPO rocky-bot)

Runs: rocky-bot reset --keys PATH [--flatten] [--yes]
USAGE
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
has_keys=0
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      usage
      exit 0
      ;;
    --keys | --keys=*) has_keys=1 ;;
  esac
done

args=("$@")
if ((!has_keys)); then
  args+=(--keys "$root/.keys.json")
fi

if [[ -n "${ROCKY_BOT_CMD:-}" ]]; then
  read -r -a rocky_bot <<<"$ROCKY_BOT_CMD"
else
  rocky_bot=(uv run --frozen --project "$root" rocky-bot)
fi

# exec: the confirmation prompt reads this terminal, and reset's exit status is ours.
exec "${rocky_bot[@]}" reset "${args[@]}"
