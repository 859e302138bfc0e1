"""Modules import each other one way: no cycle inside any app, not even through an import inside a
function, and apps import each other only downwards (STYLE.md: shop ← orders ← payments/shipping/refunds)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["shop", "orders", "payments", "shipping", "refunds", "paypal_standin"]
#: The apps each app may import (its own modules aside).
MAY_IMPORT = {
    "shop": {"paypal_standin"},  # only the thin `manage.py paypal_standin` command starts the dev server
    "orders": {"shop"},
    "payments": {"shop", "orders"},
    "refunds": {"shop", "orders", "payments"},
    "shipping": {"shop", "orders", "refunds"},
    "paypal_standin": set(),  # a development server: stdlib only, no shop code ...
}
#: ... except the one function that writes money, so its approval page shows the amount as the shop does.
MAY_IMPORT_MODULES = {"paypal_standin": {"shop.money"}}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _files(app: str) -> list[Path]:
    return [path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every project module ``path`` imports, at the top or anywhere inside a function."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = {  # `if TYPE_CHECKING:` imports never run
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for stmt in node.body
        for inner in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            submodules = {f"{module}.{alias.name}" for alias in node.names} & modules  # "from . import tasks"
            found |= submodules or {module}
    return {name for name in found if name in modules} - {_module_name(path)}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph[module]):
            cycle = visit(imported, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def _graph() -> dict[str, set[str]]:
    files = [path for app in APPS for path in _files(app)]
    modules = {_module_name(path) for path in files}
    return {_module_name(path): _imports(path, modules) for path in files}


def test_the_graph_sees_imports_at_the_top_and_inside_functions():
    graph = _graph()
    assert "shop.tasks" in graph["shop.emails"]
    assert "orders.notifications" in graph["orders.apps"]  # imported inside ready()


@pytest.mark.parametrize("app", APPS)
def test_modules_of_an_app_import_each_other_without_a_cycle(app):
    graph = _graph()
    inside = {module: {m for m in imported if m.split(".")[0] == app} for module, imported in graph.items()}
    inside = {module: imported for module, imported in inside.items() if module.split(".")[0] == app}
    cycle = _cycle(inside)
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("app", APPS)
def test_apps_import_only_the_apps_below_them(app):
    wrong = sorted(
        f"{module} imports {imported}"
        for module, targets in _graph().items()
        if module.split(".")[0] == app
        for imported in targets
        if imported.split(".")[0] not in MAY_IMPORT[app] | {app} and imported not in MAY_IMPORT_MODULES.get(app, set())
    )
    assert wrong == []
