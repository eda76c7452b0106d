#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run all the tests.
# Used as is by CI (.ci/run) and by the README's quick start. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/python-env.sh  # sets PY (and as_root); a .venv on Debian's own Python

# Debian Chromium drives the real-browser tests (never `playwright install`: no browser downloads);
# poppler-utils (pdftoppm, pdftotext, pdfimages) renders and reads back the meeting pack PDF.
# PostgreSQL + PostGIS serve the PostGIS half of the store tests: the tests start (and remove) a
# throwaway cluster on 127.0.0.1 themselves, as the postgres user when run as root.
# nginx runs deploy/nginx/areasafe.conf in front of the dashboard (tests/system/test_deploy_docs.py).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || missing+=(postgresql)
compgen -G "/usr/share/postgresql/*/extension/postgis.control" > /dev/null || missing+=(postgresql-15-postgis-3)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}"
fi

"$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
"$PY" -m ruff check .
"$PY" -m pytest -q -p no:cacheprovider "$@"
