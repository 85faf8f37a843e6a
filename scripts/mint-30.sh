#!/usr/bin/env bash
# Mint the fleet's 30 accounts on an exchange we operate and write them to a new keys file.
# A thin wrapper around `rocky-bot mint`: the point is what it refuses to do (overwrite keys,
# take the admin token on the command line, where `ps` and shell history would show it).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/mint-30.sh BASE_URL [OUT]

Mint the 30 funnel accounts (mm-anchor, 24 ladder makers, taker-1..5) on the exchange at
BASE_URL through its admin API, seed their wallets from the faucet, and write their keys to
OUT (default: .keys.json at the repository root) with mode 600. Prints the account ids.

  BASE_URL   the exchange's REST base URL, e.g. https://demo.rocky.exchange
  OUT        keys file to create; the script refuses to overwrite an existing file

Environment (one of the first two is required; the token is never taken from the command line):
  ROCKY_ADMIN_TOKEN       the exchange's admin token:  read -rs ROCKY_ADMIN_TOKEN; export ROCKY_ADMIN_TOKEN
  ROCKY_ADMIN_TOKEN_FILE  or a file holding it (a regular file, mode 600)
  ROCKY_BOT_CMD           how to run rocky-bot (default: uv run --frozen --project REPO rocky-bot)

Runs: rocky-bot mint --base-url BASE_URL --out OUT
USAGE
}

die() {
  printf 'mint-30.sh: %s\n' "$*" >&2
  exit 1
}

positional=()
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      usage
      exit 0
      ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) positional+=("$arg") ;;
  esac
done
if ((${#positional[@]} < 1 || ${#positional[@]} > 2)); then
  usage >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base_url="${positional[0]}"
out="${positional[1]:-$root/.keys.json}"

[[ "$base_url" =~ ^https?://[^/]+ ]] || die "BASE_URL '$base_url' must be an http(s) URL"
[[ -n "${ROCKY_ADMIN_TOKEN:-}" || -n "${ROCKY_ADMIN_TOKEN_FILE:-}" ]] ||
  die "set ROCKY_ADMIN_TOKEN, or ROCKY_ADMIN_TOKEN_FILE to a mode-600 file holding it (it is never taken from the command line)"
if [[ -e "$out" || -L "$out" ]]; then
  die "$out already exists: refusing to overwrite keys (move it away first)"
fi

if [[ -n "${ROCKY_BOT_CMD:-}" ]]; then
  read -r -a rocky_bot <<<"$ROCKY_BOT_CMD"
else
  rocky_bot=(uv run --frozen --project "$root" rocky-bot)
fi

# The token (or the name of its file) reaches rocky-bot through its environment, which rocky-bot
# checks (a file must be regular and mode 600); its argv carries no secret.
rc=0
"${rocky_bot[@]}" mint --base-url "$base_url" --out "$out" || rc=$?
((rc == 0)) || die "rocky-bot mint failed (exit $rc)"
[[ -f "$out" ]] || die "rocky-bot mint succeeded but wrote no $out"
chmod 600 "$out"

python3 - "$out" <<'PY'
import json
import sys

path = sys.argv[1]
with open(path, encoding="utf-8") as fh:
    doc = json.load(fh)
ids = [account["id"] for account in doc["accounts"]]
print(f"minted {len(ids)} accounts on {doc['base_url']} into {path} (mode 600):")
for account_id in ids:
    print(f"  {account_id}")
if len(ids) != 30:
    print(f"mint-30.sh: warning: expected 30 accounts, got {len(ids)}", file=sys.stderr)
PY
