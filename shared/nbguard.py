"""Stale-output guard: a short hash of a notebook's code cells, read from the .ipynb file.

Each notebook prints ``code_hash(...)`` in a cell checked by nbval. Editing any code cell
without re-executing and re-saving the notebook changes the hash, so the stored output no longer
matches and CI fails. The checkpoints key their files by the same hash. Colab keeps an opened
notebook off the runtime's disk, so there the hash is often unavailable: the guard then steps
aside with one line rather than stopping the notebook. Used in: every notebook, shared.checkpoint.
"""
from __future__ import annotations

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


def notebook_hash(notebook: str) -> str | None:
    """The 12-hex-digit hash of the notebook's code cells, or None when its file is not found or
    not a readable notebook."""
    path = find_notebook(notebook)
    if path is None:
        return None
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n\x00\n".join("".join(c["source"]).strip()
                               for c in cells if c["cell_type"] == "code")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:12]


def code_hash(notebook: str) -> str:
    """``notebook_hash``, or a one-line reason when there is none (never an exception)."""
    digest = notebook_hash(notebook)
    if digest is None:
        return f"unavailable ({Path(notebook).name} is not a readable file in {Path.cwd()})"
    return digest
