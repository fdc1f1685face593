#!/usr/bin/env bash
# Install the Prism mock server (pinned in .tools/prism/package.json + package-lock.json) for the SendGrid
# contract tests. Idempotent: does nothing when the pinned version is already installed. Called by `make test`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.tools/prism"
PRISM="$PREFIX/node_modules/.bin/prism"
PINNED="$(sed -n 's/.*"@stoplight\/prism-cli": *"\([^"]*\)".*/\1/p' "$PREFIX/package.json")"

installed_version() {
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PREFIX/node_modules/@stoplight/prism-cli/package.json" 2>/dev/null | head -1
}

if [[ -x "$PRISM" && "$(installed_version)" == "$PINNED" ]]; then
  echo "Prism $PINNED already installed in $PREFIX"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found: install Node.js 18+ (with npm) to run the SendGrid contract tests against Prism" >&2
  exit 1
fi

echo "Installing Prism $PINNED into $PREFIX ..."
if [[ -f "$PREFIX/package-lock.json" ]]; then
  npm ci --prefix "$PREFIX" --no-audit --no-fund --loglevel=error
else
  npm install --prefix "$PREFIX" --save-exact --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$PINNED"
fi
if [[ ! -x "$PRISM" ]]; then
  echo "error: npm finished but $PRISM is missing" >&2
  exit 1
fi
echo "Prism $(installed_version) installed: $PRISM"
