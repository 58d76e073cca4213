#!/usr/bin/env bash
# The tour's page in a real browser: headless Chromium (Debian) driven by playwright-core
# (npm) opens tour/index.html and checks images, console errors, captions, commands and
# MathML (crates/descent-cli/tests/browser/check_page.mjs), then leaves a screenshot.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Install only what is missing: the machine's Node 20 comes from NodeSource and bundles
# npm, and Debian's npm package would ask to downgrade it (apt refuses: "held broken
# packages").
export DEBIAN_FRONTEND=noninteractive
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
work="$(mktemp -d)"
(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund playwright-core@1.65.1 >/dev/null)
cargo build --quiet --release -p descent-cli
target="${CARGO_TARGET_DIR:-target}"
"$target/release/descent" tour --out "$work/tour" >/dev/null
cp crates/descent-cli/tests/browser/check_page.mjs "$work/"
node "$work/check_page.mjs" "$work/tour" "$work/tour-page.png"
echo "screenshot: $work/tour-page.png"
