"""Start the dashboard on a store: what ``areasafe serve`` calls.

Streamlit serves the ``static`` folder next to the main script (``dashboard/static``) at
``/app/static/`` when static serving is on; the vendored map assets are at ``/app/static/vendor``.
The app is started from the repository root so ``.streamlit/config.toml`` is read too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.settings import PROJECT_ROOT, STORE_ENV

APP = Path(__file__).resolve().parent / "app.py"


def command(*, port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """The ``streamlit run`` command line (headless; static serving comes from .streamlit/config.toml)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", address,
        "--server.enableStaticServing", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def serve(store_url: str, *, port: int = 8501, address: str = "127.0.0.1") -> int:
    """Run the dashboard on ``store_url`` until interrupted; returns streamlit's exit code."""
    env = {**os.environ, STORE_ENV: str(store_url)}
    try:
        return subprocess.run(command(port=port, address=address), cwd=PROJECT_ROOT, env=env, check=False).returncode
    except KeyboardInterrupt:
        return 0
