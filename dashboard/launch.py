"""Start the dashboard on a store: what ``areasafe serve`` calls.

It runs ``dashboard/areasafe_server.py``: Streamlit's app plus the routes that set and clear the
session cookie (:mod:`dashboard.session_routes`), so a login survives a reload.

Streamlit serves the ``static`` folder next to the main script (``dashboard/static``) at
``/app/static/`` when static serving is on; the vendored map assets are at ``/app/static/vendor``.
The app is started from the repository root so ``.streamlit/config.toml`` is read too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pipelines.settings import PROJECT_ROOT, STORE_ENV

#: What ``streamlit run`` is given: the st.App that serves app.py with the session-cookie routes.
APP = Path(__file__).resolve().parent / "areasafe_server.py"


def command(*, port: int = 8501, address: str = "127.0.0.1") -> list[str]:
    """The ``streamlit run`` command line (headless; static serving comes from .streamlit/config.toml), run
    through :func:`main`, which starts warming the caches first."""
    return [
        sys.executable, "-m", "dashboard.launch", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", address,
        "--server.enableStaticServing", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def serve(store_url: str, *, port: int = 8501, address: str = "127.0.0.1") -> int:
    """Run the dashboard on ``store_url``: this process *becomes* streamlit (``exec``), so a SIGTERM or
    Ctrl-C from a service manager reaches the server itself and frees the port; a child process would be
    left holding it when only its parent was stopped. Returns only if the exec fails."""
    env = {**os.environ, STORE_ENV: str(store_url)}
    args = command(port=port, address=address)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(PROJECT_ROOT)
    os.execve(sys.executable, args, env)
    return 1  # not reached


def main(argv: list[str] | None = None) -> None:
    """``streamlit``'s command line, with :func:`dashboard.warming.start_warming` started first: the caches of
    the first page fill while the server starts, not when the first visitor arrives."""
    from streamlit.web import cli

    root = str(PROJECT_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    from dashboard import warming

    warming.start_warming()
    cli.main(argv if argv is not None else sys.argv[1:], prog_name="streamlit")


if __name__ == "__main__":
    main()
