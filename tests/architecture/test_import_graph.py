"""The layering of ckanext-ecarto (README, « Architecture »), checked on the import graph.

A module may import only modules of its own floor or of a lower one; there is no cycle between
modules; the ground floor (core/) imports nothing of the project; an import inside a function
says why (``# optional dependency: …``); a private name (``_x``) is not used across modules.
Imports inside functions count like the others.
"""
from __future__ import annotations

import ast

from tests.architecture import graph

# Floors, bottom to top: (floor, what lives there). Keys are module names under ckanext.ecarto,
# matched on the longest prefix; a `commands` module of any package is on the CLI floor.
FLOORS: dict[str, int] = {
    # 0 — ground floor: the vocabulary every other module shares (UAI, readers, axes, table
    # names, column roles, translation); imports nothing of the project.
    "core": 0,
    # the package's own __init__ (a docstring)
    "": 0,
    # 1 — the territory referential and the low-level PostgreSQL/HTTP helpers; CKAN's search
    # backend on PostgreSQL.
    "referentiel": 1,
    "pgcopy": 1,
    "remote": 1,
    "search": 1,
    # the background jobs: retry policy, the worker that applies it, what waits and what failed
    "jobs": 1,
    # which PostgreSQL server a read-heavy query goes to (hot-standby replicas or the primary)
    "replicas": 1,
    # 2 — ingestion: reads files, loads tables, owns the registry, announces loads by signals.
    "ingest": 2,
    # 3 — what is built on loaded tables without knowing the pages: the validation report, the
    # establishment directory (owns the directory table).
    "validation": 3,
    "etablissements": 3,
    # the metadata quality score: reads the ingestion registry and column model (2), checks
    # availability through the outbound guard (1); shown by the pages and the plugin above.
    "quality": 3,
    # 4 — the territory aggregates (own their tables) and pages' data.
    "territoires": 4,
    # 5 — CKAN actions, auth functions, validators, schemas of the actions.
    "logic": 5,
    # 6 — what plugs into CKAN's other extensions: harvesters, scheming schemas, DCAT profile.
    "harvesters": 6,
    "schemas": 6,
    "dcat": 6,
    # 7 — the web (Flask blueprints, template helpers, CSP/CSRF middlewares) and the CLI.
    "views": 7,
    "helpers": 7,
    "csp": 7,
    "csrf": 7,
    # the anonymous page cache (WSGI middleware + Flask hook; invalidated by signals)
    "pagecache": 7,
    "cli": 7,
    # operations (issue 19): the 503 answer while PostgreSQL/Redis are unreachable, the jobs
    # worker with retries and the periodic check (commands)
    "operations": 7,
    # 8 — the plugin wires everything into CKAN; the WSGI entry point builds the app.
    "plugin": 8,
    "wsgi": 8,
}
CLI_FLOOR = 7


def floor(module: str) -> int:
    rel = module.removeprefix(graph.PACKAGE).lstrip(".")
    if rel.rpartition(".")[2] == "commands":
        return CLI_FLOOR
    parts = rel.split(".") if rel else []
    for n in range(len(parts), -1, -1):
        key = ".".join(parts[:n])
        if key in FLOORS:
            return FLOORS[key]
    raise KeyError(f"{module}: no floor in FLOORS (tests/architecture/test_import_graph.py)")


def _where(imp: graph.Import) -> str:
    return f"{graph.modules()[imp.importer].relative_to(graph.ROOT)}:{imp.line}"


def _report(title: str, problems: list[str]) -> str:
    return f"{title} ({len(problems)}):\n  " + "\n  ".join(sorted(problems))


def test_every_module_has_a_floor():
    missing = []
    for name in graph.modules():
        try:
            floor(name)
        except KeyError as error:
            missing.append(str(error))
    assert not missing, _report("modules without a floor", missing)


def test_every_project_import_resolves():
    """A moved module leaves no import of its old name behind."""
    known = graph.modules()
    dangling = [f"{_where(i)} imports {i.target}" for i in graph.imports() if i.target not in known]
    assert not dangling, _report("imports of modules that do not exist", dangling)


def test_no_import_from_a_higher_floor():
    upward = [f"{_where(i)}: {i.importer} (floor {floor(i.importer)}) imports {i.target} "
              f"(floor {floor(i.target)})"
              for i in graph.imports()
              if i.target in graph.modules() and floor(i.target) > floor(i.importer)]
    assert not upward, _report("imports of a higher floor", upward)


def test_core_imports_nothing_of_the_project():
    wrong = [f"{_where(i)}: {i.importer} imports {i.target}" for i in graph.imports()
             if floor(i.importer) == 0 and i.importer.startswith(graph.PACKAGE + ".core")]
    assert not wrong, _report("core/ modules importing the project", wrong)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle():
    edges: dict[str, set[str]] = {}
    for imp in graph.imports():
        if imp.target in graph.modules() and imp.target != imp.importer:
            edges.setdefault(imp.importer, set()).add(imp.target)
    cycles = [" ↔ ".join(c) for c in _cycles(edges)]
    assert not cycles, _report("import cycles (modules importing each other, directly or not)", cycles)


def test_imports_inside_functions_are_documented():
    """Imports go at the top of the module, where the graph can be read; a lazy import (an
    optional package, a module that must not load CKAN) says why on its line or just above."""
    hidden = [f"{graph.modules()[i.module].relative_to(graph.ROOT)}:{i.line}: {i.text}"
              for i in graph.function_imports() if not i.documented]
    assert not hidden, _report(
        f"imports inside functions without a `{graph.OPTIONAL_MARK} <why>` comment", hidden)


def _private(name: str) -> bool:
    # `_` alone is the gettext function (core/translation.py), public by convention
    return name.startswith("_") and not name.startswith("__") and name != "_"


def test_no_private_name_used_across_modules():
    problems = [f"{_where(i)}: {i.importer} imports {name} from {i.target}"
                for i in graph.imports() for name in i.names if _private(name)]
    for module in graph.modules():
        aliases = graph.module_aliases(module)
        for node in ast.walk(graph.tree(module)):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and _private(node.attr)
                    and aliases[node.value.id] != module):
                path = graph.modules()[module].relative_to(graph.ROOT)
                problems.append(f"{path}:{node.lineno}: {module} uses {aliases[node.value.id]}.{node.attr}")
    assert not problems, _report("private names used across modules (make them public)", problems)
