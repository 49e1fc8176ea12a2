"""Load a notebook's definitions (imports, functions, classes, constants) without running it.

The benchmarks time the layers and training steps exactly as the notebooks define them, rather
than keeping a second copy that could drift. Every code cell is parsed; only its top-level
imports, ``def``/``class`` statements and assignments of literal constants are executed, in one
namespace. Cells that train, load data or plot are skipped.
"""
from __future__ import annotations

import ast
import json
import sys
import types
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


def _is_literal_assign(node) -> bool:
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    try:
        ast.literal_eval(node.value)
        return True
    except ValueError:
        return False


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
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics
            continue
        keep = [n for n in tree.body
                if isinstance(n, KEEP) or _is_literal_assign(n) or _is_tf_import(n)]
        if keep:
            exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), ns)
    return ns
