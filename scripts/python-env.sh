# Sourced by scripts/serve-demo.sh and scripts/run-tests.sh: sets PY to the Python that AreaSafe is
# installed into and run with.
#
# - Inside an active virtual environment, or with a Python that pip may install into (pyenv, conda, a
#   container image's own Python), that Python is used as it is.
# - Debian 12's system Python is "externally managed" (PEP 668): pip refuses to install into it. Then a
#   virtual environment .venv is made in the repository (Debian's python3-venv is installed first when
#   missing) and used; run the CLI from it as .venv/bin/areasafe.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

externally_managed() {
  python3 - <<'PY'
import os, sys, sysconfig
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if sys.prefix == sys.base_prefix and os.path.exists(marker) else 1)
PY
}

PY=python3
if [ -x .venv/bin/python ]; then
  PY=.venv/bin/python
elif externally_managed; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q python3-venv
  fi
  echo "This Python is managed by Debian: installing AreaSafe into the virtual environment .venv"
  python3 -m venv .venv
  PY=.venv/bin/python
fi
