"""What the portal defines once (issue #13): the five axes and the update frequencies
(core/axes.py), the schema and table names (core/tables.py); and no SQL in the views."""
from __future__ import annotations

import ast

from ckanext.ecarto.core import tables
from ckanext.ecarto.core.axes import AXIS_IDS, FREQUENCY_BASE
from tests.architecture import graph

AXES_MODULE = "ckanext.ecarto.core.axes"
TABLES_MODULE = "ckanext.ecarto.core.tables"
AGGREGATES_MODULE = "ckanext.ecarto.territoires.aggregates"


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring nodes (module, classes, functions): prose, not definitions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _strings(module: str) -> list[tuple[int, str]]:
    tree = graph.tree(module)
    prose = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose]


def _where(module: str, line: int) -> str:
    return f"{graph.modules()[module].relative_to(graph.ROOT)}:{line}"


def test_the_axes_are_listed_in_core_axes_only():
    """A tuple, list, set or dict naming three axes or more is a second definition of them."""
    wanted = set(AXIS_IDS)
    found = []
    for module in graph.modules():
        if module == AXES_MODULE:
            continue
        for node in ast.walk(graph.tree(module)):
            items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
            if not isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) or items is None:
                continue
            named = {i.value for i in items if isinstance(i, ast.Constant) and i.value in wanted}
            if len(named) >= 3:
                found.append(f"{_where(module, node.lineno)}: {sorted(named)}")
    assert not found, "the axes are listed outside core/axes.py:\n  " + "\n  ".join(found)


def test_the_frequency_vocabulary_is_defined_in_core_axes_only():
    found = [_where(m, line) for m in graph.modules() if m != AXES_MODULE
             for line, text in _strings(m) if FREQUENCY_BASE in text]
    assert not found, "frequency vocabulary spelled outside core/axes.py:\n  " + "\n  ".join(found)


def test_schema_and_table_names_are_defined_in_core_tables_only():
    """Only core/tables.py spells the schema and table names; the aggregates' owner also writes
    its tables' names in its SQL, each checked against core/tables.py by ``aggregates.t``."""
    aggregates = (*tables.AGGREGATE_TABLES, tables.AGGREGATE_STATE_TABLE)
    everywhere = (tables.REGISTRY_TABLE, tables.DIRECTORY_TABLE, tables.SEARCH_INDEX_TABLE,
                  tables.DEFAULT_SCHEMA)
    found = []
    for module in graph.modules():
        if module == TABLES_MODULE:
            continue
        names = everywhere if module == AGGREGATES_MODULE else everywhere + aggregates
        for line, text in _strings(module):
            # a whole name (the aggregates' index names start with their table's name)
            words = set(text.replace(".", " ").replace("(", " ").replace(",", " ").split())
            hits = [n for n in names if n in words or text == n]
            if hits:
                found.append(f"{_where(module, line)}: {hits}")
    assert not found, "table or schema names spelled outside core/tables.py:\n  " + "\n  ".join(found)


def test_one_schema_name_function():
    defined = [m for m in graph.modules() for node in ast.walk(graph.tree(m))
               if isinstance(node, ast.FunctionDef) and node.name == "schema_name"]
    assert defined == [TABLES_MODULE]


def test_no_sql_in_views():
    """Views call actions or the table owners; they build no SQL."""
    found = []
    for module, path in graph.modules().items():
        if not module.startswith("ckanext.ecarto.views"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(marker in line for marker in ("sa.text(", "SELECT ", "execute(")):
                found.append(f"{path.relative_to(graph.ROOT)}:{number}: {line.strip()}")
    assert not found, "SQL in views/:\n  " + "\n  ".join(found)
