#!/usr/bin/env bash
# Set up (idempotent) and run the main job. Extra arguments go to `mec_coop.cli demo`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
. "$ROOT/scripts/env.sh"
cd "$ROOT"
exec python -m mec_coop.cli demo "$@"
