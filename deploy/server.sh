#!/usr/bin/env bash
# A local Prefect server with its UI on 127.0.0.1:4200 (same as `make server`), offline.
set -euo pipefail
cd "$(dirname "$0")/.."
export PREFECT_HOME="${PREFECT_HOME:-$PWD/.prefect}"
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
exec .venv/bin/prefect server start --host 127.0.0.1 --port "${PORT:-4200}"
