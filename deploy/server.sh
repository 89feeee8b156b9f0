#!/usr/bin/env bash
# A local Prefect server (UI on http://127.0.0.1:${PORT:-4200}) and a process worker that runs the
# living review's deployments (deploy/prefect.yaml), offline. Ctrl-C (or SIGTERM) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export PREFECT_HOME="${PREFECT_HOME:-$PWD/.prefect}"
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
export PREFECT_API_URL="http://127.0.0.1:${PORT:-4200}/api"
export LR_HOME="${LR_HOME:-$PWD}"

.venv/bin/prefect server start --host 127.0.0.1 --port "${PORT:-4200}" &
server=$!
trap 'kill "$server" "${worker:-}" 2>/dev/null; wait' EXIT INT TERM

for _ in $(seq 1 120); do
  .venv/bin/python -c "import httpx,sys; sys.exit(httpx.get('$PREFECT_API_URL/health').status_code != 200)" \
    2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "the Prefect server did not start" >&2; exit 1; }
  sleep 1
done
.venv/bin/prefect work-pool create livingreview --type process --overwrite >/dev/null
.venv/bin/prefect --no-prompt deploy --prefect-file deploy/prefect.yaml --all
echo "Prefect UI: http://127.0.0.1:${PORT:-4200}  (deployments: update-review/monthly, update-review/backfill, report-review/report, check-search-recall/recall-check)"
.venv/bin/prefect worker start --pool livingreview &
worker=$!
wait "$worker"
