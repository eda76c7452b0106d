"""A count with its noun, as a person writes it: the one plural rule of every sentence AreaSafe writes
(the agenda and pack, the upload report and page, hot-spot and effect messages, the ward report).

It imports nothing of the project, so every module may use it (the hot-spot modules too, which
:mod:`pipelines.views` imports).
"""

from __future__ import annotations


def counted(n: int | str, noun: str, *, plural: str | None = None) -> str:
    """``n`` ``noun`` as a person writes it: "1 action", "5 actions", "0 actions", "1,234 incidents".

    ``n`` is a number, or a count already written for its reader (:class:`Counts`): ``"<5"`` by the public
    rules takes the plural, as every count but exactly one does. ``plural`` is for a noun that does not
    just add "s"."""
    shown = n if isinstance(n, str) else f"{int(n):,}"
    return f"{shown} {noun if shown == '1' else plural or noun + 's'}"
