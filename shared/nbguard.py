"""Stale-output guard: a short hash of a notebook's code cells, read from the .ipynb file.

Each notebook prints ``code_hash(...)`` in a cell checked by nbval. Editing any code cell
without re-executing and re-saving the notebook changes the hash, so the stored output no longer
matches and CI fails. Used in: every notebook.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from shared.runtime import REPO_ROOT


def code_hash(notebook: str) -> str:
    path = Path(notebook)
    if not path.is_file():
        path = REPO_ROOT / "notebooks" / notebook
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n\x00\n".join("".join(c["source"]).strip() for c in cells if c["cell_type"] == "code")
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:12]
