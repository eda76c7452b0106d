#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run all the tests.
# Used as is by CI (.ci/run) and by the README's quick start. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian Chromium drives the real-browser tests (never `playwright install`: no browser downloads).
if [ ! -x /usr/bin/chromium ]; then
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q chromium
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
python3 -m ruff check .
python3 -m pytest -q -p no:cacheprovider "$@"
