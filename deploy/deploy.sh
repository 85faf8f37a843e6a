#!/usr/bin/env bash
# Ship this checkout to a host and (re)start rocky-bot there under `systemctl --user`.
# Every step runs on its own so a failure names the step; see --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/deploy.sh HOST [--with-keys] [--shard NAME]... [--dry-run]

Ship this checkout to HOST (an ssh destination, e.g. ec2-user@bot.example.com) and
(re)start rocky-bot there as a systemd user service:

  1. prepare      mkdir DEPLOY_DIR, check that uv is installed, warn if linger is off
  2. sync files   rsync exactly what the service needs to DEPLOY_DIR: rocky_bot/,
                  pyproject.toml, uv.lock, README.md, deploy/ and scripts/; never anything
                  named *keys*.json* or .env*, nor caches (what is not on this list stays
                  behind, and on HOST is left alone)
  3. copy keys    only with --with-keys: exactly the keys files the units use, mode 600
  4. uv sync      uv sync --frozen --no-dev, in DEPLOY_DIR
  5. install units  deploy/rocky-bot.service and the funding timer rocky-bot-fund.service +
                  rocky-bot-fund.timer (or the @ templates with --shard) into
                  ~/.config/systemd/user/
  6. check keys   the unit's keys file must exist on HOST; any *keys*.json* or .env* file
                  in DEPLOY_DIR that others may read is set to mode 600 (keys/ to 700), and
                  each change is reported; warns when the funding timer's admin token
                  file (~/.config/rocky-bot/admin-token) is missing
  7. daemon-reload, enable, restart   (restart waits for READY=1: the unit is Type=notify)
  8. start timer  (re)start the hourly funding timer
  9. status       systemctl --user status and the last journal lines

Options:
  --with-keys    also copy .keys.json (or keys/NAME.json with --shard), mode 600 on HOST
  --shard NAME   run the template unit rocky-bot@.service as instance rocky-bot@NAME instead
                 of rocky-bot.service: keys in DEPLOY_DIR/keys/NAME.json, settings in
                 ~/.config/rocky-bot/NAME.env on HOST, which must set its own
                 ROCKY_METRICS_PORT. Repeat for several shards.
  --dry-run      print every command instead of running it; nothing is copied or changed
  -h, --help     show this help

Environment:
  DEPLOY_DIR            project directory on HOST (default ~/rocky-bot; the installed
                        units are rewritten to point at it)
  DEPLOY_SSH            remote shell command (default ssh), e.g. "ssh -i ~/.ssh/bot.pem"
  DEPLOY_RSYNC          rsync command (default rsync)
  DEPLOY_JOURNAL_LINES  journal lines shown at the end (default 30)

Stops at the first failing step with a message naming it, and exits non-zero.
EOF
}

die() {
  printf 'deploy.sh: %s\n' "$*" >&2
  exit 1
}

# Single-quote a word for the remote POSIX shell.
sq() {
  printf "'%s'" "${1//\'/\'\\\'\'}"
}

host=""
with_keys=0
dry_run=0
shards=()
while (($#)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --with-keys) with_keys=1 ;;
    --dry-run) dry_run=1 ;;
    --shard)
      (($# >= 2)) || die "--shard needs a NAME"
      [[ "$2" =~ ^[A-Za-z0-9_.-]+$ ]] || die "--shard $2: use letters, digits, '.', '_' or '-'"
      shards+=("$2")
      shift
      ;;
    --shard=*)
      name="${1#--shard=}"
      [[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "--shard $name: use letters, digits, '.', '_' or '-'"
      shards+=("$name")
      ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      [[ -z "$host" ]] || die "one HOST only, got '$host' and '$1' (see --help)"
      host="$1"
      ;;
  esac
  shift
done
[[ -n "$host" ]] || {
  usage >&2
  exit 2
}

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
read -r -a ssh_cmd <<<"${DEPLOY_SSH:-ssh}"
read -r -a rsync_cmd <<<"${DEPLOY_RSYNC:-rsync}"
journal_lines="${DEPLOY_JOURNAL_LINES:-30}"
[[ "$journal_lines" =~ ^[0-9]+$ ]] || die "DEPLOY_JOURNAL_LINES must be a number"

# DEPLOY_DIR in three spellings: for rsync (relative paths start in the remote home), for the
# remote shell (with "$HOME" expanded there), and for the unit files (%h is the home directory).
deploy_dir="${DEPLOY_DIR:-~/rocky-bot}"
[[ "$deploy_dir" =~ ^[A-Za-z0-9._/~+-]+$ ]] ||
  die "DEPLOY_DIR '$deploy_dir': use letters, digits and . _ / ~ + - only (it goes into unit files)"
if [[ "$deploy_dir" == /* ]]; then
  rsync_dir="$deploy_dir"
  remote_dir="$(sq "$deploy_dir")"
  unit_dir="$deploy_dir"
else
  [[ "$deploy_dir" != \~* || "$deploy_dir" == \~/* ]] || die "DEPLOY_DIR '$deploy_dir': ~user is not supported"
  rel="${deploy_dir#\~}"
  rel="${rel#/}"
  [[ -n "$rel" && "$rel" != *~* ]] || die "DEPLOY_DIR '$deploy_dir': give ~/DIR or an absolute path"
  rsync_dir="$rel"
  remote_dir="\"\$HOME\"/$(sq "$rel")"
  unit_dir="%h/$rel"
fi

# The daemon's unit(s), and the funding timer that keeps their wallets up (the only unit that
# reads the admin token: the daemon never holds it).
if ((${#shards[@]})); then
  unit_files=(rocky-bot@.service rocky-bot-fund@.service rocky-bot-fund@.timer)
  units=()
  timers=()
  keys_files=()
  for shard in "${shards[@]}"; do
    units+=("rocky-bot@${shard}.service")
    timers+=("rocky-bot-fund@${shard}.timer")
    keys_files+=("keys/${shard}.json")
  done
else
  unit_files=(rocky-bot.service rocky-bot-fund.service rocky-bot-fund.timer)
  units=(rocky-bot.service)
  timers=(rocky-bot-fund.timer)
  keys_files=(.keys.json)
fi
for unit_file in "${unit_files[@]}"; do
  [[ -f "$src/deploy/$unit_file" ]] || die "missing $src/deploy/$unit_file"
done
# What the service needs, and nothing else (an allow-list: a new file is not shipped by accident).
ship=(rocky_bot/ deploy/ scripts/ pyproject.toml uv.lock README.md)
for needed in rocky_bot pyproject.toml uv.lock; do
  [[ -e "$src/$needed" ]] || die "no $src/$needed: run deploy.sh from a rocky-bot checkout"
done
if ((with_keys)); then
  for keys_file in "${keys_files[@]}"; do
    [[ -f "$src/$keys_file" ]] || die "--with-keys: no $src/$keys_file to copy"
  done
fi
if ((!dry_run)); then
  command -v "${rsync_cmd[0]}" >/dev/null || die "${rsync_cmd[0]} not found (install rsync)"
  command -v "${ssh_cmd[0]}" >/dev/null || die "${ssh_cmd[0]} not found (set DEPLOY_SSH)"
fi

say() {
  printf '==> %s\n' "$*"
}

# run STEP CMD...: run CMD (or print it under --dry-run); on failure stop and name the step.
run() {
  local step="$1"
  shift
  say "$step"
  if ((dry_run)); then
    printf '[dry-run]'
    printf ' %q' "$@"
    printf '\n'
    return 0
  fi
  local rc=0
  "$@" || rc=$?
  if ((rc != 0)); then
    # The unit's own words say why it did not start or stay up.
    [[ "$step" == restart || "$step" == status ]] && show_journal
    die "step '$step' failed (exit $rc) on $host; the steps after it were not run"
  fi
}

# remote_sh STEP SCRIPT: run a POSIX shell script on HOST (printed readably under --dry-run).
remote_sh() {
  if ((dry_run)); then
    say "$1"
    printf '[dry-run] %s %s: %s\n' "${ssh_cmd[*]}" "$host" "$2"
    return 0
  fi
  run "$1" "${ssh_cmd[@]}" "$host" "$2"
}

# remote STEP SCRIPT: the same, in DEPLOY_DIR, with uv's usual install directories on PATH.
remote() {
  remote_sh "$1" "export PATH=\"\$HOME/.local/bin:\$HOME/.cargo/bin:\$PATH\" && cd $remote_dir && $2"
}

show_journal() {
  local args=() unit
  for unit in "${units[@]}"; do
    args+=(-u "$unit")
  done
  say "last $journal_lines journal lines"
  "${ssh_cmd[@]}" "$host" "journalctl --user ${args[*]} -n $journal_lines --no-pager" || true
}

# 1. prepare: the directories, and the tools the later steps need, before anything is copied.
prepare="set -e; mkdir -p $remote_dir"
if ((${#shards[@]})); then
  prepare+=" && mkdir -p -m 700 $remote_dir/keys"
fi
# shellcheck disable=SC2016  # $HOME and $(id -un) are for the remote shell to expand
remote_sh "prepare" "$prepare"' && mkdir -p "$HOME/.config/systemd/user" "$HOME/.config/rocky-bot"
export PATH="$HOME/.local/bin:$HOME/.cargo/bin:$PATH"
command -v uv >/dev/null || { echo "uv is not installed on this host: curl -LsSf https://astral.sh/uv/install.sh | sh" >&2; exit 127; }
command -v systemctl >/dev/null || { echo "systemctl not found on this host" >&2; exit 127; }
if command -v loginctl >/dev/null && [ "$(loginctl show-user "$(id -un)" -p Linger --value 2>/dev/null)" = no ]; then
  echo "warning: linger is off, rocky-bot stops at logout: sudo loginctl enable-linger $(id -un)" >&2
fi'

# 2. sync files: the allow-list, minus secrets and caches at any depth (the first matching rule
# wins, so the excludes come first). Excluded paths are also protected from --delete, so the
# host's .venv, keys and anything else off the list stay as they are.
filters=(--exclude='*keys*.json*' --exclude='.env*' --exclude=__pycache__/ --exclude='*.pyc')
for path in "${ship[@]}"; do
  if [[ "$path" == */ ]]; then filters+=(--include="/${path}***"); else filters+=(--include="/$path"); fi
done
filters+=(--exclude='*')
run "sync files" "${rsync_cmd[@]}" -e "${DEPLOY_SSH:-ssh}" --recursive --links --perms --times \
  --compress --delete "${filters[@]}" "$src/" "$host:$rsync_dir/"

# 3. copy keys: a separate transfer so that only these files get --chmod=600.
if ((with_keys)); then
  keys_paths=()
  for keys_file in "${keys_files[@]}"; do
    keys_paths+=("$src/$keys_file")
  done
  if ((${#shards[@]})); then keys_dest="$rsync_dir/keys/"; else keys_dest="$rsync_dir/"; fi
  # --copy-links: a local keys file that is a symlink is sent as the file it points to.
  run "copy keys" "${rsync_cmd[@]}" -e "${DEPLOY_SSH:-ssh}" --copy-links --perms --times \
    --chmod=F600 "${keys_paths[@]}" "$host:$keys_dest"
fi

# 4. uv sync
remote "uv sync" "uv sync --frozen --no-dev"

# 5. install units, rewritten for DEPLOY_DIR, each through a temporary file and a rename.
install=""
for unit_file in "${unit_files[@]}"; do
  target="\"\$HOME/.config/systemd/user/$unit_file\""
  install+="sed -e 's|%h/rocky-bot|$unit_dir|g' deploy/$unit_file > $target.tmp"
  install+=" && chmod 644 $target.tmp && mv $target.tmp $target && "
done
remote "install units" "${install% && }"

# 6. check keys: a unit without its keys file would only exit 78 at start. Then the modes: a
# keys or .env file others may read (copied by hand, or shipped by an older deploy.sh) is set to
# 600 and reported, since what it holds may already have been read; one that cannot be fixed
# stops the deploy before the restart.
check=""
for keys_file in "${keys_files[@]}"; do
  check+="{ test -f $keys_file || { echo \"no keys file $deploy_dir/$keys_file on this host:"
  check+=" deploy with --with-keys or mint there with scripts/mint-30.sh\" >&2; exit 1; }; } && "
done
# shellcheck disable=SC2016  # $f and $m are for the remote shell to expand
check+='find . -maxdepth 2 -path ./.venv -prune -o -type f \( -name "*keys*.json*" -o -name ".env*" \) -perm /077 -print |
while IFS= read -r f; do
  m=$(stat -c %a "$f")
  chmod 600 "$f" || { echo "$f is mode $m on this host and cannot be set to 600: fix it by hand" >&2; exit 1; }
  echo "warning: $f was mode $m on this host, others could read it: set to 600 (rotate what it holds if they may have read it)" >&2
done &&
if [ -d keys ] && [ -n "$(find keys -maxdepth 0 -perm /077)" ]; then
  chmod 700 keys || { echo "keys/ on this host is open to others and cannot be set to 700" >&2; exit 1; }
  echo "warning: keys/ was open to others on this host: set to 700" >&2
fi &&
if [ ! -f "$HOME/.config/rocky-bot/admin-token" ]; then
  echo "warning: no ~/.config/rocky-bot/admin-token on this host: the funding timer fails (exit 78) until it exists, and the wallets run dry (README.md, Funding)" >&2
fi'
remote "check keys" "$check"

# 7. reload, enable, restart. Type=notify: restart returns when the fleet said READY=1.
remote "daemon-reload" "systemctl --user daemon-reload"
remote "enable" "systemctl --user enable ${units[*]} ${timers[*]}"
remote "restart" "systemctl --user restart ${units[*]}"

# 8. the funding timer: (re)started so a changed schedule takes effect; Persistent=true runs a
# missed hour at once.
remote "start timer" "systemctl --user restart ${timers[*]}"

# 9. status and the last journal lines; a unit that died right after READY=1 fails the deploy.
remote "status" "systemctl --user --no-pager --full status ${units[*]}"
if ((dry_run)); then
  say "done (dry run: nothing was copied or changed)"
else
  show_journal
  say "deployed to $host:$deploy_dir (${units[*]})"
fi
