"""``python -m scripts.demo_data``: the same command as ``python scripts/make_demo_data.py``."""

from .generate import main

raise SystemExit(main())
