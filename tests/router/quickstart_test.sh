#!/usr/bin/env bash
# docs/routing.md's quick start, run as written: its sh block, from the repository root,
# with build/tandem meaning this build's CLI and a fresh $TANDEM_HOME for the ledger.
# Exits 77 (skipped) when port 8080 or 9000 is taken on this machine.
#   tests/router/quickstart_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$2"
for port in 8080 9000; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use here: the quick start needs it" >&2
    exit 77
  fi
done
block=$(awk '/^## Quick start/ {q = 1} q && /^```sh$/ {inside = 1; next} inside && /^```$/ {exit} inside {print}' docs/routing.md)
[ -n "$block" ] || { echo "no sh block under '## Quick start' in docs/routing.md" >&2; exit 1; }
home=$(mktemp -d)
# Its own process group, so that the servers it starts go with it whatever happens.
TANDEM_HOME="$home" setsid bash -euo pipefail -c "${block//build\/tandem/$build/tandem}" >"$home/output" 2>&1 &
group=$!
trap 'kill -- -$group 2>/dev/null || true; rm -rf "$home"' EXIT
status=0
wait $group || status=$?
output=$(cat "$home/output")
echo "$output"
[ $status -eq 0 ] || { echo "quick start: the block failed with status $status" >&2; exit 1; }
check() {  # PATTERN WHAT
  grep -qiE "$1" <<<"$output" || { echo "quick start: $2 (no match for '$1')" >&2; exit 1; }
}
check '^x-tandem-route: cloud; reason=difficulty:' "the hard request did not go to the cloud"
check '^x-tandem-route: device; reason=privacy:email' "the private request did not stay on the device"
check 'requests +2' "the ledger does not count the two requests"
check '\[route: (cloud|device); reason=' "chat --router printed no route"
