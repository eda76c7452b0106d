#!/usr/bin/env bash
# Install AreaSafe and run the dashboard on the embedded store (GeoPackage) with the demo Safe
# Neighbourhood, built on first start. The README's first quick-start command. Extra arguments go to
# `areasafe serve` (for example --port 8502).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
"$PY" -m pip install -q --disable-pip-version-check -e .
exec "$PY" -m pipelines.cli serve "$@"
