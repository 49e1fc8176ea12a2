"""Per-epoch checkpoints so a long (full-budget) run survives an interruption.

A checkpoint holds arrays (weights, optimiser slots, the data order) and a JSON-able state
(epoch, records, RNG state). It is written to a temporary file and renamed, so a run killed while
saving leaves the previous checkpoint intact; rerunning the same cell resumes after the last
completed epoch::

    ckpt = Checkpoint("checkpoints/02_resnet_done_right")
    start, arrays, state = ckpt.load() or (0, initial_arrays, initial_state)
    for epoch in range(start + 1, epochs + 1):
        ...train one epoch...
        ckpt.save(epoch, arrays, state)

Used in: 02, and the full-budget runs of the other notebooks.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from shared.runtime import REPO_ROOT

CHECKPOINT_DIR = REPO_ROOT / "checkpoints"


class Checkpoint:
    def __init__(self, name: str | os.PathLike, enabled: bool = True):
        path = Path(name)
        self.path = (path if path.is_absolute() else CHECKPOINT_DIR / path).with_suffix(".npz")
        self.enabled = enabled

    def save(self, epoch: int, arrays: dict, state: dict | None = None) -> None:
        """Atomically store ``arrays`` (name -> ndarray) and ``state`` after ``epoch``."""
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"epoch": int(epoch), "state": state or {}})
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, __meta__=np.array(meta), **{k: np.asarray(v) for k, v in arrays.items()})
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def load(self):
        """(epoch, arrays, state) of the last completed epoch, or None when there is none."""
        if not (self.enabled and self.path.is_file()):
            return None
        with np.load(self.path, allow_pickle=False) as f:
            meta = json.loads(str(f["__meta__"]))
            arrays = {k: f[k] for k in f.files if k != "__meta__"}
        return meta["epoch"], arrays, meta["state"]

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
