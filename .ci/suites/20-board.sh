#!/usr/bin/env bash
# The board in a real browser: Debian's Chromium driven by playwright-core (npm, pinned in
# package-lock.json) under node's test runner, against the release binary that the Cargo
# tests built. Prints node's closing lines (`# pass N` / `# fail N`) and one `N passed, N
# failed` line; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

export DEBIAN_FRONTEND=noninteractive
# Install only what is missing (Debian's npm conflicts with the NodeSource Node 20 that
# bundles its own npm).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --quiet --release -p descent-cli
target="${CARGO_TARGET_DIR:-$PWD/target}"
export DESCENT_BIN="$target/release/descent"
# Screenshots go to a scratch folder: the committed docs/board.png stays as it is.
export SCREENSHOT_DIR="$(mktemp -d)"

cd crates/descent-cli/tests/browser
npm ci --no-audit --no-fund --loglevel=error
log="$(mktemp)"
set +e
node --test --test-reporter=tap board.test.mjs 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
pass=$(awk '/^# pass /{print $3}' "$log")
fail=$(awk '/^# fail /{print $3}' "$log")
echo "browser: ${pass:-0} passed, ${fail:-0} failed (screenshots in $SCREENSHOT_DIR)"
exit "$status"
