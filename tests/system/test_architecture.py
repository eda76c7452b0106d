"""The rules of the house (docs/ARCHITECTURE.md), read from the code's own imports: no import circles, no
import that runs against the layering, and no module taking another module's private names; and tests/ laid
out like the packages, so that a module's tests are found by its name."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT

ARCHITECTURE = PROJECT_ROOT / "docs" / "ARCHITECTURE.md"
#: What the store may import: settings, errors, the data contracts, the time and hexagon rules, file modes,
#: and the two rules it applies itself (placement in SQL, and the taxonomy's fallback category); nothing
#: that reads, decides or shows.
FOUNDATIONS = (
    "pipelines.settings",
    "pipelines.errors",
    "pipelines.schemas",
    "pipelines.periods",
    "pipelines.hexes",
    "pipelines.private_files",
    "pipelines.place",
    "pipelines.taxonomy",
)


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("pipelines", "dashboard"):
        for path in sorted((PROJECT_ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports() -> tuple[dict[str, set[str]], dict[str, set[str]], list[tuple[str, str, str]]]:
    """Module -> the project modules it imports; module -> the outside packages it imports; and every
    ``from x import _private`` across modules."""
    inner, outer, private = defaultdict(set), defaultdict(set), []
    for name, path in MODULES.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [(alias.name, None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                targets = [(base, alias.name) for alias in node.names]
            else:
                continue
            for module, member in targets:
                full = f"{module}.{member}" if member else module
                owner = _owner(full if full in MODULES else module)
                if owner is None:
                    outer[name].add(module.split(".")[0])
                    continue
                if owner == name:
                    continue
                inner[name].add(owner)
                if member and member.startswith("_") and not member.startswith("__") and full not in MODULES:
                    private.append((name, module, member))
        private += _private_attributes(name, path)
    return inner, outer, private


def _private_attributes(name: str, path: Path) -> list[tuple[str, str, str]]:
    """``module._name`` where ``module`` is another project module imported by name (``from pipelines.act
    import pack`` then ``pack._css``): the same reach into another module's privates as importing them."""
    tree = ast.parse(path.read_text(), str(path))
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in MODULES:
                    aliases[alias.asname] = alias.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            target, attr = aliases[node.value.id], node.attr
            private = attr.startswith("_") and not attr.startswith("__") and f"{target}.{attr}" not in MODULES
            if private and target != name:
                found.append((name, target, attr))
    return found


INNER, OUTER, PRIVATE = _imports()


def _circles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in INNER[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in MODULES:
        if module not in index:
            visit(module)
    return circles


def test_the_modules_are_found():
    assert {"pipelines.store.base", "pipelines.privacy", "dashboard.common", "dashboard.app_pages.map_explorer"} <= set(
        MODULES
    )
    assert "pipelines.store.base" in INNER["pipelines.privacy.rows"]


def test_no_import_circles():
    assert _circles() == []


def test_no_module_takes_another_modules_private_names():
    assert PRIVATE == []


def test_the_core_never_imports_the_dashboard_or_streamlit():
    for module, targets in INNER.items():
        if module.startswith("pipelines.") and module != "pipelines.cli":  # `areasafe serve` starts the dashboard
            assert not any(t.startswith("dashboard") for t in targets), module
        if module.startswith("pipelines"):
            assert "streamlit" not in OUTER[module], module
    assert INNER["pipelines.cli"] & {t for t in MODULES if t.startswith("dashboard")} <= {"dashboard.launch"}


def test_the_foundations_import_only_each_other():
    for module in FOUNDATIONS:
        assert INNER[module] <= set(FOUNDATIONS), f"{module} imports {sorted(INNER[module] - set(FOUNDATIONS))}"


def test_the_store_stands_on_the_foundations_only():
    for module, targets in INNER.items():
        if module.startswith("pipelines.store"):
            above = {t for t in targets if not t.startswith("pipelines.store") and t not in FOUNDATIONS}
            assert not above, f"{module} imports {sorted(above)}"


@pytest.mark.parametrize("higher", ["act", "ingest", "access", "mapview", "downloads", "ward", "wardreport", "cli"])
def test_the_disclosure_core_imports_nothing_that_shows_or_ingests(higher):
    for module, targets in INNER.items():
        if module.startswith("pipelines.privacy"):
            assert not any(t == f"pipelines.{higher}" or t.startswith(f"pipelines.{higher}.") for t in targets), module


def test_pages_reach_the_store_only_through_the_dashboard_modules():
    for module, targets in INNER.items():
        if module.startswith("dashboard.app_pages"):
            assert not any(t.startswith("pipelines.store") for t in targets), module


PAGES = PROJECT_ROOT / "dashboard" / "app_pages"
PAGE_LINES = 80
#: Frame arithmetic a page leaves to the core (issue 19, item 8): a page reads widgets, calls a pipelines
#: function, and draws what it returns.
FRAME_METHODS = {"groupby", "merge", "pivot", "pivot_table", "assign", "apply", "sort_values", "loc", "iloc", "concat"}


#: Pages another helper is slimming at the same time (issue 19, item 8); the lead empties this after merging.
def _page_faults(path: Path) -> list[str]:
    text = path.read_text()
    faults = [f"{len(text.splitlines())} lines"] if len(text.splitlines()) >= PAGE_LINES else []
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            faults += [f"imports {n}" for n in names if n.split(".")[0] in ("pandas", "geopandas", "numpy")]
        elif isinstance(node, ast.Attribute) and node.attr in FRAME_METHODS:
            faults.append(f"line {node.lineno}: .{node.attr}")
    return faults


@pytest.mark.parametrize("page", sorted(p.name for p in PAGES.glob("*.py")))
def test_a_page_is_small_and_holds_no_frame_arithmetic(page):
    """Under 80 lines, no pandas, geopandas or numpy, and none of their frame methods: the core does that."""
    faults = _page_faults(PAGES / page)
    assert not faults, f"dashboard/app_pages/{page}: {faults}"


def test_the_page_check_finds_frame_arithmetic(tmp_path):
    page = tmp_path / "page.py"
    page.write_text("import pandas as pd\nrows = frame.sort_values('x').loc[0]\n" + "x = 1\n" * 80)
    assert _page_faults(page) == ["82 lines", "imports pandas", "line 2: .loc", "line 2: .sort_values"]


def test_the_architecture_document_names_every_module():
    """One line per module (its path in backticks), and a folder line for each package."""
    text = ARCHITECTURE.read_text()
    missing = []
    for path in MODULES.values():
        rel = path.relative_to(PROJECT_ROOT)
        named = f"`{rel.parent}/`" if path.name == "__init__.py" else f"`{rel}`"
        if named not in text:
            missing.append(named)
    assert not missing, f"docs/ARCHITECTURE.md does not name {missing}"


def test_no_function_is_more_complex_than_grade_c():
    """Radon's cyclomatic complexity: every function in the core and the dashboard at C (20) or below."""
    from radon.complexity import cc_rank, cc_visit

    worst = []
    for path in MODULES.values():
        blocks = cc_visit(path.read_text())
        for block in [*blocks, *(m for b in blocks for m in getattr(b, "methods", ()))]:
            if cc_rank(block.complexity) not in "ABC":
                worst.append(f"{path.relative_to(PROJECT_ROOT)}:{block.lineno} {block.name} {block.complexity}")
    assert not worst, worst


# --------------------------------------------------------------------------------------------------
# Column names are spelt once (pipelines/schemas.py): code spells them COLUMNS.<name>
# --------------------------------------------------------------------------------------------------
#: Keyword -> which part of its value names columns: "names" (a name or a list/tuple of names), "dict-keys",
#: "dict-both" (a rename map's keys and values, or a list of names).
COLUMN_KEYWORDS = {
    **dict.fromkeys(
        ("on", "left_on", "right_on", "by", "subset", "usecols", "index_col", "id_vars", "value_vars"), "names"
    ),
    **dict.fromkeys(("column_order", "x", "y", "color", "hover_data", "hover_name"), "names"),
    "columns": "dict-both",
    **dict.fromkeys(("where", "labels", "column_config", "aggfunc"), "dict-keys"),
}
#: Frame method -> what its positional arguments hold.
COLUMN_METHODS = {
    **dict.fromkeys(
        ("groupby", "sort_values", "set_index", "drop_duplicates", "duplicated", "nlargest", "nsmallest"), "names"
    ),
    **dict.fromkeys(("pivot_table", "explode", "insert"), "names"),
    "rename": "dict-both",
    **dict.fromkeys(("astype", "fillna"), "dict-keys"),
}
#: Receivers that are not frames or records: Streamlit and process state, typing, parsed YAML/JSON documents and
#: GeoPackage blob frames (whose ``type`` is a WKB type); an ALL-CAPS name is a module's table of words.
NOT_FRAMES = {"session_state", "environ", "secrets", "query_params", "Literal", "Annotated", "doc", "obj", "blobs"}
#: Names that hold other words than columns: a map's layer names and its stats, and a batch's frames by table name.
NOT_FRAMES |= {"layers", "stats", "frames"}


def _is_frame(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        if isinstance(node, ast.Attribute) and node.attr in NOT_FRAMES:
            return False
        node = node.func if isinstance(node, ast.Call) else node.value
    return not (isinstance(node, ast.Name) and (node.id in NOT_FRAMES or re.fullmatch(r"_?[A-Z][A-Z0-9_]*", node.id)))


def _column_parts(value: ast.expr, how: str) -> list[ast.expr]:
    if how == "names" or (how == "dict-both" and not isinstance(value, ast.Dict)):
        return list(value.elts) if isinstance(value, ast.List | ast.Tuple | ast.Set) else [value]
    if isinstance(value, ast.Dict):
        return [k for k in value.keys if k is not None] + (list(value.values) if how == "dict-both" else [])
    return []


def _in_column_context(tree: ast.AST, names: set[str]) -> list[ast.expr]:
    """What a frame's column is named by: subscripts, ``.get``, ``in``, the column keywords, frame methods' names
    and ``DataFrame({...})``'s keys, and lists of column names (the contexts /work/s11/codemod_names.py rewrites)."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_frame(node.value):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            found += [e for part in parts for e in (part.elts if isinstance(part, ast.List) else [part])]
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
            found += [node.left] if _is_frame(node.comparators[0]) else []
        elif isinstance(node, ast.Call):
            method = node.func.attr if isinstance(node.func, ast.Attribute) and _is_frame(node.func.value) else None
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if method == "get" and node.args:
                found.append(node.args[0])
            elif method in COLUMN_METHODS:
                found += [e for arg in node.args for e in _column_parts(arg, COLUMN_METHODS[method])]
            elif called in ("DataFrame", "GeoDataFrame") and node.args and isinstance(node.args[0], ast.Dict):
                found += _column_parts(node.args[0], "dict-keys")
            for keyword in node.keywords:
                if keyword.arg in COLUMN_KEYWORDS:
                    found += _column_parts(keyword.value, COLUMN_KEYWORDS[keyword.arg])
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and _column_list(node.value, names):
            found += node.value.elts
    return found


def _column_list(value: ast.expr | None, names: set[str]) -> bool:
    """A list or tuple of two or more literals, every one a stored column name (``_ROW_COLUMNS = [...]``)."""
    if not isinstance(value, ast.List | ast.Tuple) or len(value.elts) < 2:
        return False
    return all(isinstance(e, ast.Constant) and e.value in names for e in value.elts)


def _bare_column_names(source: str, names: set[str]) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    fstrings = {id(n) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for n in ast.walk(node)}
    return sorted(
        {
            (node.lineno, node.value)
            for node in _in_column_context(tree, names)
            if isinstance(node, ast.Constant) and node.value in names and id(node) not in fstrings
        }
    )


def test_column_names_are_spelt_through_schemas():
    """A stored column used as a frame's column is written ``COLUMNS.<name>``, never ``"name"``, outside
    pipelines/schemas.py (migrations are frozen history and are not read): a new ``df["neighbourhood_code"]``
    fails here. /work/s11/codemod_names.py rewrote the 1,292 there were."""
    from pipelines.schemas import COLUMNS

    found = []
    for path in MODULES.values():
        rel = path.relative_to(PROJECT_ROOT)
        if rel.as_posix() != "pipelines/schemas.py":
            found += [f"{rel}:{line} {name!r}" for line, name in _bare_column_names(path.read_text(), set(COLUMNS))]
    assert not found, f"spell these COLUMNS.<name> (from pipelines.schemas import COLUMNS): {found}"


@pytest.mark.parametrize(
    ("source", "hits"),
    [
        pytest.param('frame["neighbourhood_code"]', [(1, "neighbourhood_code")], id="subscript"),
        pytest.param('frame.loc[mask, ["code", "name"]] = 1', [(1, "code"), (1, "name")], id="loc-list"),
        pytest.param('row.get("status")\n"geometry" in frame', [(1, "status"), (2, "geometry")], id="get-in"),
        pytest.param('f.merge(g, on="code").sort_values(["month"])', [(1, "code"), (1, "month")], id="on-by"),
        pytest.param('f.rename(columns={"raw": "code"})', [(1, "code"), (1, "raw")], id="rename"),
        pytest.param('pd.DataFrame({"org": [1]})', [(1, "org")], id="frame-keys"),
        pytest.param('KEYS = ("org", "month")\nkinds = ("org", "ward")', [(1, "month"), (1, "org")], id="column-list"),
        pytest.param('f[COLUMNS.code]\nTABLES["incidents"]\nst.session_state["role"]', [], id="not-columns"),
        pytest.param("f\"{row['code']}\"\nx = ('code', 'ward')\nc == 'status'\nf['shown']", [], id="left-alone"),
    ],
)
def test_the_column_name_check_finds_what_it_should(source, hits):
    from pipelines.schemas import COLUMNS

    assert _bare_column_names(source, set(COLUMNS)) == hits


def test_every_columns_name_used_is_a_stored_column():
    """``COLUMNS.<name>`` anywhere in the code names a stored column, so a misspelling fails here even in a
    function no other test calls."""
    from pipelines.schemas import COLUMNS

    unknown = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            named = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "COLUMNS"
            if named and node.attr not in COLUMNS:
                unknown.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} COLUMNS.{node.attr}")
    assert not unknown, unknown


TESTS = PROJECT_ROOT / "tests"
#: Test folders that mirror no package: the whole house (docs kept true, data files, real data, red team,
#: these rules), and the dashboard driven in a real headless Chromium.
CROSS_CUTTING = (Path("system"), Path("dashboard") / "browser")
#: Folders of the project that hold modules (``pipelines/act``, ``dashboard/app_pages``), relative to the root.
FOLDERS = {path.parent.relative_to(PROJECT_ROOT) for path in MODULES.values()}


def _test_files() -> list[Path]:
    """Every test module, relative to ``tests/`` (``tests/data`` holds files to test on, not tests)."""
    return sorted(p.relative_to(TESTS) for p in TESTS.rglob("test_*.py") if p.relative_to(TESTS).parts[0] != "data")


def test_every_test_file_mirrors_a_package_folder_or_is_cross_cutting():
    """pipelines/act/agenda.py is tested in tests/pipelines/act/; a test of no one package goes to tests/system/."""
    misplaced = [str(rel) for rel in _test_files() if rel.parent not in FOLDERS and rel.parent not in CROSS_CUTTING]
    assert not misplaced, f"move these under tests/<package folder>/ or tests/system/: {misplaced}"


def test_each_module_has_its_tests_found_by_name():
    """In a mirroring folder a test file is named after a module or a sub-package there: ``test_agenda.py``, or
    ``test_agenda_<topic>.py`` when one module has several."""
    unnamed = []
    for rel in _test_files():
        if rel.parent in CROSS_CUTTING or rel.parent not in FOLDERS:
            continue
        names = {p.stem for p in MODULES.values() if p.parent == PROJECT_ROOT / rel.parent} - {"__init__"}
        names |= {folder.name for folder in FOLDERS if folder.parent == rel.parent}
        names |= {p.name for p in (PROJECT_ROOT / rel.parent).iterdir() if p.is_dir() and not p.name.startswith("_")}
        subject = rel.stem.removeprefix("test_")
        if not any(subject == name or subject.startswith(f"{name}_") for name in names):
            unnamed.append(str(rel))
    assert not unnamed, f"name these test_<module>.py or test_<module>_<topic>.py: {unnamed}"


def test_every_test_folder_is_a_package():
    """So that two folders may each hold a ``test_cli.py``: pytest imports them as tests.pipelines.test_cli and
    tests.pipelines.hotspots.test_cli."""
    folders = {folder for rel in _test_files() for folder in rel.parents}
    assert [str(f) for f in sorted(folders) if not (TESTS / f / "__init__.py").exists()] == []


def test_no_string_piece_lost_its_f_prefix():
    """A plain string joined to an f-string keeps its braces as text: ``f"{n} hexagons " "{'is' if ...}"`` shows
    the code to the reader. No piece of an f-string holds what reads as a Python expression in braces."""
    import re

    expression = re.compile(r"\{[^{}]*\bif\b[^{}]*\belse\b[^{}]*\}|\{[A-Za-z_][\w.]*\([^{}]*\)\}")
    found = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                for part in node.values:
                    if isinstance(part, ast.Constant) and isinstance(part.value, str) and expression.search(part.value):
                        found.append(f"{name}:{node.lineno}")
    assert not found, f"add the missing f to these string pieces: {found}"
