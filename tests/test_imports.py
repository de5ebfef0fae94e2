"""No import cycle between the package's modules. Every import statement counts, at module level or
inside a function, so a cycle cannot hide behind a deferred import."""

import ast
from pathlib import Path

import neurometarl

def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name → source file, for every module of the package at ``root``."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join((package, *parts))] = path
    return files


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules) -> list[str]:
    """The modules an import statement of ``module`` names: ``from pkg import name`` names ``pkg.name``
    when that is a module, else ``pkg``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module
    if node.level:  # relative: from the module's package, up level - 1 packages
        package = module if is_package else module.rpartition(".")[0]
        package = package.rsplit(".", node.level - 1)[0]
        base = f"{package}.{node.module}" if node.module else package
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]


def import_graph(root: Path, package: str) -> dict[str, dict[str, int]]:
    """Module → {module of the package it imports: line of its first import statement}."""
    files = module_files(root, package)
    graph = {}
    for module, path in files.items():
        edges = graph[module] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in imported(node, module, path.name == "__init__.py", files):
                    if target in files and target != module:
                        edges[target] = min(edges.get(target, node.lineno), node.lineno)
    return graph


def reachable(graph: dict, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def cycles(graph: dict) -> list[list[str]]:
    """The strongly connected groups of more than one module (each module of a group reaches every other)."""
    reach = {module: reachable(graph, module) for module in graph}
    groups = {frozenset(other for other in reach[module] if module in reach[other]) for module in graph if module in reach[module]}
    return sorted(sorted(group) for group in groups)


def describe(graph: dict, group: list[str]) -> str:
    lines = [f"import cycle among {', '.join(group)}:"]
    for module in group:
        lines += [f"  {module} (line {line}) imports {target}" for target, line in sorted(graph[module].items()) if target in group]
    return "\n".join(lines)


def test_no_import_cycle_between_modules():
    graph = import_graph(Path(neurometarl.__file__).parent, "neurometarl")
    found = cycles(graph)
    assert not found, "\n".join(describe(graph, group) for group in found)


def test_graph_counts_every_kind_of_import(tmp_path):
    sources = {
        "__init__.py": "from .a import f\n",
        "a.py": "def f():\n    from .sub import b\n",  # inside a function; b is a module
        "sub/__init__.py": "",
        "sub/b.py": "from ..a import f\nimport pkg.c\n",
        "c.py": "from pkg.sub import VALUE\n",  # VALUE is no module: points at pkg.sub
    }
    for name, text in sources.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    graph = import_graph(tmp_path / "pkg", "pkg")
    assert {module: set(edges) for module, edges in graph.items()} == {
        "pkg": {"pkg.a"}, "pkg.a": {"pkg.sub.b"}, "pkg.sub": set(), "pkg.sub.b": {"pkg.a", "pkg.c"}, "pkg.c": {"pkg.sub"},
    }
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]
    assert describe(graph, ["pkg.a", "pkg.sub.b"]).splitlines()[1:] == [
        "  pkg.a (line 2) imports pkg.sub.b", "  pkg.sub.b (line 1) imports pkg.a"]
