"""The statements the revisions in ``versions/`` share, as text built the same way every time.

A revision's effect must never change once written, so nothing here reads the schemas or settings:
each function only spells a fixed pattern (a table's ``fid`` key, the two triggers of an append-only
table, a quoted comment). Change one and every revision that calls it changes too: add a new function
instead.
"""

from collections.abc import Iterable

from alembic import op

#: The first column of every table the store writes rows to.
FID = '"fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY'


def run(statements: Iterable[str]) -> None:
    """Execute ``statements`` in order, in the migration's transaction."""
    for statement in statements:
        op.execute(statement)


def create_table(name: str, *columns: str) -> str:
    """``CREATE TABLE name`` with the ``fid`` key first, then ``columns`` (column and constraint lines
    as SQL), laid out as ``python -m pipelines.store._pg_schema`` prints them."""
    body = ",\n    ".join((FID, *columns))
    return f'CREATE TABLE "{name}" (\n    {body}\n)'


def quoted(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def comment_on_table(name: str, text: str) -> str:
    return f'COMMENT ON TABLE "{name}" IS {quoted(text)}'


def comment_on_column(table: str, column: str, text: str) -> str:
    return f'COMMENT ON COLUMN "{table}"."{column}" IS {quoted(text)}'


def append_only(name: str) -> list[str]:
    """The triggers that make a table refuse UPDATE, DELETE and TRUNCATE (``areasafe_refuse_change``,
    revision 0001)."""
    refuse = "EXECUTE FUNCTION areasafe_refuse_change()"
    return [
        f'CREATE TRIGGER "{name}_append_only" BEFORE UPDATE OR DELETE ON "{name}" FOR EACH ROW {refuse}',
        f'CREATE TRIGGER "{name}_no_truncate" BEFORE TRUNCATE ON "{name}" FOR EACH STATEMENT {refuse}',
    ]


def spatial_index(name: str) -> str:
    """The GiST index on a table's ``geometry`` column."""
    return f'CREATE INDEX "gx_{name}_geometry" ON "{name}" USING gist ("geometry")'
