"""docs/deploy.md stays true: the commands it tells operators to run exist, and its proxy example
passes the websocket through with sticky sessions."""

from __future__ import annotations

import re

import pytest

from pipelines.cli import _parser
from pipelines.settings import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "deploy.md").read_text()
COMMANDS = sorted(set(re.findall(r"areasafe ((?:db|serve|batches|export|ingest)(?: [a-z]+)?)", DOC)))


def test_the_guide_names_the_commands_it_is_about():
    assert {"db upgrade", "db current", "serve", "batches"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_the_guide_exists(command):
    with pytest.raises(SystemExit) as done:
        _parser().parse_args([*command.split(), "--help"])
    assert done.value.code == 0


def test_proxy_example_is_sticky_and_passes_the_websocket():
    nginx = DOC[DOC.index("upstream areasafe") : DOC.index("## 5. TLS")]
    assert "ip_hash;" in nginx and "proxy_http_version 1.1;" in nginx
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx and "$connection_upgrade" in nginx
    assert "ssl_certificate" in nginx


def test_backup_and_restore_commands_are_there():
    assert "pg_dump --format=custom" in DOC and "pg_restore" in DOC and "CREATE EXTENSION postgis" in DOC
