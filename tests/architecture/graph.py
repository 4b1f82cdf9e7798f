"""The import graph of ckanext/ecarto, read with `ast` (shared by the architecture tests).

Every module of the package except the Alembic migrations, with every import, including those
inside functions. ``from pkg import name`` is an edge to ``pkg.name`` when that is a module of
the project, to ``pkg`` otherwise; a package's ``__init__`` run implicitly by importing one of
its submodules is not an edge (it would make every package a cycle with its own modules).
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "ckanext" / "ecarto"
PACKAGE = "ckanext.ecarto"
EXCLUDED_DIRS = ("migration",)
OPTIONAL_MARK = "# optional dependency:"


@dataclass(frozen=True)
class Import:
    importer: str        # dotted name of the importing module
    target: str          # dotted name of the imported project module
    names: tuple[str, ...]  # names taken from it (`from x import a, b`), empty for `import x`
    line: int
    in_function: bool
    documented: bool     # an `# optional dependency:` comment on the line or the line above


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.lru_cache(maxsize=1)
def modules() -> dict[str, Path]:
    """Dotted name -> file of every project module."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR).parts
        if rel[0] in EXCLUDED_DIRS:
            continue
        found[module_name(path)] = path
    return found


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, importer: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(importer, path).split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.depth = 0
        self.found: list[tuple[ast.AST, bool]] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node, self.depth > 0))


@functools.lru_cache(maxsize=None)
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text(encoding="utf-8"), filename=str(modules()[name]))


def _documented(lines: list[str], node: ast.AST) -> bool:
    here = lines[node.lineno - 1]
    above = lines[node.lineno - 2] if node.lineno >= 2 else ""
    return OPTIONAL_MARK in here or above.strip().startswith(OPTIONAL_MARK)


@functools.lru_cache(maxsize=1)
def imports() -> tuple[Import, ...]:
    """Every import of a project module by a project module."""
    known = modules()
    result = []
    for name, path in known.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        visitor = _Visitor()
        visitor.visit(tree(name))
        for node, in_function in visitor.found:
            documented = _documented(lines, node)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                        result.append(Import(name, alias.name, (), node.lineno, in_function, documented))
                continue
            base = _absolute(node, name, path)
            if not (base == PACKAGE or base.startswith(PACKAGE + ".")):
                continue
            plain = tuple(a.name for a in node.names if f"{base}.{a.name}" not in known)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    result.append(Import(name, f"{base}.{alias.name}", (), node.lineno, in_function, documented))
            if plain:
                result.append(Import(name, base, plain, node.lineno, in_function, documented))
    return tuple(result)


def module_aliases(name: str) -> dict[str, str]:
    """Local name -> project module, for the modules bound by this module's imports."""
    known = modules()
    path = known[name]
    aliases = {}
    for node in ast.walk(tree(name)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known and alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, path)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
    return aliases


@dataclass(frozen=True)
class LocalImport:
    module: str
    line: int
    text: str
    documented: bool


@functools.lru_cache(maxsize=1)
def function_imports() -> tuple[LocalImport, ...]:
    """Every import statement inside a function (of the project or not) of a project module."""
    result = []
    for name, path in modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        visitor = _Visitor()
        visitor.visit(tree(name))
        for node, in_function in visitor.found:
            if in_function:
                result.append(LocalImport(name, node.lineno, lines[node.lineno - 1].strip(),
                                          _documented(lines, node)))
    return tuple(result)
