"""The rules of the house (docs/ARCHITECTURE.md), read from the code's own imports: no import circles, no
import that runs against the layering, and no module taking another module's private names; and tests/ laid
out like the packages, so that a module's tests are found by its name."""

from __future__ import annotations

import ast
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


def test_pages_reach_the_store_only_through_common():
    for module, targets in INNER.items():
        if module.startswith("dashboard.app_pages"):
            assert not any(t.startswith("pipelines.store") for t in targets), module


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
        subject = rel.stem.removeprefix("test_")
        if not any(subject == name or subject.startswith(f"{name}_") for name in names):
            unnamed.append(str(rel))
    assert not unnamed, f"name these test_<module>.py or test_<module>_<topic>.py: {unnamed}"


def test_every_test_folder_is_a_package():
    """So that two folders may each hold a ``test_cli.py``: pytest imports them as tests.pipelines.test_cli and
    tests.pipelines.hotspots.test_cli."""
    folders = {folder for rel in _test_files() for folder in rel.parents}
    assert [str(f) for f in sorted(folders) if not (TESTS / f / "__init__.py").exists()] == []
