"""Generate the demo data set in ``data/demo/``: the command the README and PROVENANCE.md name.

The generator is the package ``scripts/demo_data/`` and its specification ``scripts/demo_data/spec.yaml``.

Usage::

    python scripts/make_demo_data.py [--shared ../shared/data/real] [--out data/demo] [--spec PATH]
"""

from demo_data import main  # this file's folder is first on sys.path when run as a script

if __name__ == "__main__":
    raise SystemExit(main())
