#!/usr/bin/env bash
# Register the deployments with the server at PREFECT_API_URL and start a process worker (for a
# server that runs elsewhere; `make server` starts both here).
set -euo pipefail
cd "$(dirname "$0")/.."
export PREFECT_API_URL="${PREFECT_API_URL:-http://127.0.0.1:4200/api}"
export LR_HOME="${LR_HOME:-$PWD}"
.venv/bin/prefect work-pool create livingreview --type process --overwrite >/dev/null
.venv/bin/prefect --no-prompt deploy --prefect-file deploy/prefect.yaml --all
exec .venv/bin/prefect worker start --pool livingreview
