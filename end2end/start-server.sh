#!/usr/bin/env bash
# Starts the built server for the Playwright suite on a fresh temporary database.
# Usage: start-server.sh PORT. Playwright stops it when the suite ends.
set -euo pipefail
port="${1:?port}"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="$(mktemp -d -t flowgate-e2e-XXXXXX)"
export FLOWGATE_DATABASE_URL="sqlite://${data}/flowgate.db?mode=rwc"
export FLOWGATE_LOG_DIR="${data}/logs"
export FLOWGATE_ADDR="127.0.0.1:${port}"
export FLOWGATE_ADMIN_EMAIL="admin@admin.test"
export FLOWGATE_ADMIN_PASSWORD="e2e-admin-password"
export LEPTOS_SITE_ROOT="${root}/target/site"
export LEPTOS_SITE_PKG_DIR="pkg"
export LEPTOS_OUTPUT_NAME="flowgate"
export RUST_LOG="${RUST_LOG:-server=info,app=info}"
exec "${FLOWGATE_SERVER_BIN:-${root}/target/debug/server}"
