"""Load a notebook's definitions (imports, functions, classes, constants) without running it.

Benchmarks and tests use the layers and training loops exactly as the notebooks define them,
rather than keeping a second copy that could drift. Every code cell is parsed; only its top-level
imports, ``def``/``class`` statements and assignments of literal constants are executed, in one
namespace. Cells that train, load data or plot are skipped.
"""
from __future__ import annotations

import ast
import json
import sys
import types
from pathlib import Path

from shared.runtime import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


SAFE_CALLS = {"dict", "tuple", "list", "set", "frozenset"}


def _is_literal_assign(node, ns: dict, classes: set) -> bool:
    """An assignment of constants, possibly built from the notebook's own classes (a table of
    layer specs, say) and names already defined; never one that calls a function (loads data,
    trains...)."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    for sub in ast.walk(node.value):
        if isinstance(sub, ast.Call):
            if not (isinstance(sub.func, ast.Name) and sub.func.id in classes | SAFE_CALLS):
                return False
        elif isinstance(sub, ast.Name) and sub.id not in ns and sub.id not in SAFE_CALLS:
            return False
        elif isinstance(sub, (ast.Lambda, ast.Await, ast.NamedExpr)):
            return False
    return True


def _is_tf_import(node) -> bool:
    # `tf = import_tensorflow()` is how every TF notebook gets TensorFlow
    return (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", "") == "import_tensorflow")


def load(notebook: str, namespace: dict | None = None) -> dict:
    path = NOTEBOOKS / notebook
    cells = json.loads(path.read_text())["cells"]
    if namespace is None:
        # a registered module, so that dataclasses and pickling can find it
        module = types.ModuleType(f"nb_{path.stem}")
        sys.modules[module.__name__] = module
        namespace = module.__dict__
    ns = namespace
    classes: set = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics
            continue
        for node in tree.body:  # one at a time: a kept assignment may use the previous ones
            if isinstance(node, ast.ClassDef):
                classes.add(node.name)
            if isinstance(node, KEEP) or _is_literal_assign(node, ns, classes) \
                    or _is_tf_import(node):
                try:
                    exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), ns)
                except NameError:  # a default argument or decorator needing run-time state
                    pass
                except (KeyError, IndexError, TypeError, AttributeError):
                    if not isinstance(node, (ast.Assign, ast.AnnAssign)):
                        raise  # only an assignment that reads run-time data may be skipped
    return ns
