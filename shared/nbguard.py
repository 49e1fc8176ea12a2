"""Stale-output guard: a short hash of a notebook's code cells and of the ``shared`` modules they
import (directly or through each other), read from the files.

Each notebook prints ``code_hash(...)`` in a cell checked by nbval. Editing any code cell, or any
line of a helper the notebook imports, without re-executing and re-saving the notebook changes
the hash, so the stored output no longer matches and CI fails; the results file records the same
hash, so it names exactly which code produced it. The checkpoints key their files by the same hash. Colab keeps an opened
notebook off the runtime's disk, so there the hash is often unavailable: the guard then steps
aside with one line rather than stopping the notebook. Used in: every notebook, shared.checkpoint.
"""
from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

from shared import runtime


def find_notebook(notebook: str) -> Path | None:
    """The notebook's file: as named (relative to the working folder, where Jupyter runs a
    notebook), else in the repository's ``notebooks/`` in a checkout; None when neither has it."""
    places = [Path(notebook)]
    if runtime.IN_CHECKOUT:
        places.append(runtime.REPO_ROOT / "notebooks" / notebook)
    return next((p for p in places if p.is_file()), None)


SHARED = Path(__file__).resolve().parent


def _shared_imports(source: str) -> set[str]:
    """Names of the ``shared`` modules that ``source`` imports (``shared.data`` -> ``data``).
    Lines of IPython magic and shell escapes are not Python and are skipped."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "shared" and len(parts) > 1 and (SHARED / f"{parts[1]}.py").is_file():
                found.add(parts[1])
    return found


def shared_modules(code: str) -> list[Path]:
    """The files of every ``shared`` module that ``code`` imports, followed through the
    modules' own imports, plus the package's ``__init__.py``; sorted."""
    todo, seen = _shared_imports(code), set()
    while todo:
        name = todo.pop()
        seen.add(name)
        todo |= _shared_imports((SHARED / f"{name}.py").read_text(encoding="utf-8")) - seen
    return [SHARED / "__init__.py"] + sorted(SHARED / f"{name}.py" for name in seen)


def notebook_hash(notebook: str) -> str | None:
    """The 12-hex-digit hash of the notebook's code cells and of the ``shared`` modules they
    import, or None when its file is not found or not a readable notebook."""
    path = find_notebook(notebook)
    if path is None:
        return None
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n\x00\n".join("".join(c["source"]).strip()
                               for c in cells if c["cell_type"] == "code")
        helpers = [f"{p.name}\n{p.read_text(encoding='utf-8')}" for p in shared_modules(code)]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    text = "\n\x00\n".join([code, *helpers])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def code_hash(notebook: str) -> str:
    """``notebook_hash``, or a one-line reason when there is none (never an exception)."""
    digest = notebook_hash(notebook)
    if digest is None:
        return f"unavailable ({Path(notebook).name} is not a readable file in {Path.cwd()})"
    return digest
