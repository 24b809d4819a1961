"""The import layering of docs/adr/0017-composition-root.md, checked on the source itself.

Every import statement counts, including those inside functions (lazy imports are still a
dependency). A failure names the file, the line and the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "bangfu"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every ``bangfu`` module ``path`` imports; ``from package import submodule``
    names the submodule."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "bangfu":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "bangfu":
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (SRC / Path(*candidate.split("."))).is_dir() or (
                    SRC / Path(*candidate.split("."))
                ).with_suffix(".py").is_file()
                yield node.lineno, candidate if is_module else node.module


def files(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


def top_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def foreign_imports(package: str, allowed: set[str]) -> list[str]:
    return [
        f"{path.relative_to(SRC)}:{line}: imports {module}"
        for path in files(package)
        for line, module in imports(path)
        if top_package(module) not in allowed | {package}
    ]


def test_the_helpers_see_lazy_imports() -> None:
    # a function-level import counts: the check would be blind without it
    seen = dict(imports(PACKAGE / "cli" / "report_cmds.py"))
    assert "bangfu.reports.dashboard" in seen.values()


def test_store_depends_on_core_only() -> None:
    assert foreign_imports("store", {"core"}) == []


def test_batch_depends_on_core_only() -> None:
    assert foreign_imports("batch", {"core"}) == []


def test_policy_depends_on_core_and_the_batch_interface_only() -> None:
    assert foreign_imports("policy", {"core", "batch"}) == []


def test_core_depends_on_nothing_of_bangfu() -> None:
    assert foreign_imports("core", set()) == []


def test_nothing_imports_the_entry_points() -> None:
    # web and cli are the outermost layer: no capability package may reach into them
    offenders = [
        f"{path.relative_to(SRC)}:{line}: imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if top_package(module_name(path)) not in {"web", "cli", "__main__"}  # python -m bangfu is the CLI
        for line, module in imports(path)
        if top_package(module) in {"web", "cli"}
    ]
    assert offenders == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph`` (one path per cycle found by depth-first search)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", ["cli", "store", "policy"])
def test_no_circular_imports_inside(package: str) -> None:
    graph = {
        module_name(path): {m for _, m in imports(path) if m.startswith(f"bangfu.{package}")} for path in files(package)
    }
    assert cycles(graph) == []


def definitions(name: str) -> list[str]:
    return [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name in (name, f"_{name}")
    ]


def test_one_fail_helper_in_the_cli() -> None:
    assert [d for d in definitions("fail") if d.startswith("bangfu/cli/")] == ["bangfu/cli/errors.py:12"]


def calls(name: str) -> set[str]:
    """The modules that call ``name`` (as a plain name or an attribute)."""
    callers = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                function = node.func
                called = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
                if called == name:
                    callers.add(module_name(path))
    return callers


def test_engines_are_made_in_one_place() -> None:
    # create_engine's options (SQLite pragmas, hidden parameters) live in store.db; the context alone
    # makes engines from settings. Alembic's env.py keeps its own for `alembic` run by hand on a URL.
    assert calls("create_engine") == {"bangfu.store.db"}
    assert calls("make_engine") == {"bangfu.context", "bangfu.store.migrations.env"}


def test_the_policy_comes_from_the_policy_set() -> None:
    # services, pages and commands take the context's policy set, not the loader's cached document
    assert calls("load_bundled") == {"bangfu.policy.policy_set"}
