"""shop's modules import each other one way: no cycle, not even through an import inside a function."""

import ast
from pathlib import Path

from django.conf import settings

SHOP = Path(settings.BASE_DIR) / "shop"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SHOP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _shop_imports(path: Path, modules: set[str]) -> set[str]:
    """Every shop module ``path`` imports, at the top or anywhere inside a function."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}  # "from . import tasks"
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


def test_shop_modules_import_each_other_without_a_cycle():
    files = [path for path in SHOP.rglob("*.py") if "migrations" not in path.parts]
    modules = {_module_name(path) for path in files}
    graph = {_module_name(path): _shop_imports(path, modules) for path in files}
    assert "shop.tasks" in graph["shop.emails"]  # the graph sees the imports it should
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
