"""Per-epoch checkpoints so a long (full-budget) run survives an interruption.

A checkpoint holds arrays (weights, optimiser slots) and a JSON-able state (epoch, records, RNG
state). It is written to a temporary file and renamed, so a run killed while saving leaves the
previous checkpoint intact. ``save_state`` / ``resume`` take a run's own nested structure (dicts,
lists and tuples of NumPy arrays, ``tf.Variable``s, numbers, NumPy random generators and
``History`` records) and put every leaf back where it was; ``shared.train.TrainingLoop`` calls
them after every epoch, and a rerun of the cell resumes after the last completed epoch.

``for_run`` keys the file by notebook, budget and the notebook's code hash, so a checkpoint
written by other code or another budget is never resumed; where the notebook's file is not on
disk (Colab), the helpers' commit stands in for the hash. Files go to ``checkpoints/`` in
``runtime.home()``. Finished runs keep their last checkpoint: rerunning the notebook skips
straight past them (delete ``checkpoints/`` to train from scratch). The notebooks switch
checkpoints on at the ``full`` budget only.

Used in: shared.train (every notebook's training runs).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from shared import runtime

CHECKPOINT_DIR = None   # None: checkpoints/ in runtime.home(), looked up when used; tests set one
_keyed_by_commit: set = set()   # notebooks already told that their checkpoints use the commit


class Checkpoint:
    def __init__(self, name: str | os.PathLike, enabled: bool = True):
        path = Path(name)
        folder = Path(CHECKPOINT_DIR) if CHECKPOINT_DIR else runtime.home() / "checkpoints"
        self.path = (path if path.is_absolute() else folder / path).with_suffix(".npz")
        self.enabled = enabled

    def save(self, epoch: int, arrays: dict, state: dict | None = None) -> None:
        """Atomically store ``arrays`` (name -> ndarray) and ``state`` after ``epoch``."""
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"epoch": int(epoch), "state": state or {}}, default=_plain)
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

    # -- nested training state -----------------------------------------------------------------

    @classmethod
    def for_run(cls, notebook: str, run: str, budget: str, enabled: bool) -> "Checkpoint":
        """The checkpoint of one training run of a notebook at ``budget`` and its current code."""
        stem = Path(notebook).stem
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", run).strip("_") or "run"
        tag = f"{budget}-{_code_key(stem)}" if enabled else "off"
        return cls(Path(stem) / tag / slug, enabled=enabled)

    def save_state(self, epoch: int, state) -> None:
        """Save every leaf of ``state`` (see the module docstring) after ``epoch``."""
        if not self.enabled:
            return
        arrays, meta = {}, {}
        for key, container, leaf in _leaves(state):
            kind, value = _encode(leaf)
            if kind == "array":
                arrays[key] = value
            else:
                meta[key] = [kind, value]
        self.save(epoch, arrays, meta)

    def resume(self, state) -> int:
        """Put the last checkpoint's values back into ``state``; returns the first epoch still to
        run (1 when there is no checkpoint). Raises ``ValueError`` when the checkpoint does not
        fit the state (then delete it: it comes from a different run)."""
        loaded = self.load()
        if loaded is None:
            return 1
        epoch, arrays, meta = loaded
        saved = {**{k: v for k, (kind, v) in meta.items()}, **arrays}
        for key, container, leaf in list(_leaves(state)):
            if key not in saved:
                raise ValueError(f"checkpoint {self.path} has no entry {key!r}; delete it to "
                                 "start this run afresh")
            _restore(container, key.rsplit("/", 1)[-1], leaf, saved.pop(key), self.path)
        for key, value in saved.items():
            # entries the loop creates as it trains (an optimiser's slots start as {})
            *parents, name = key.split("/")
            container = state
            for part in parents:
                if isinstance(container, dict):
                    container = container.setdefault(part, {})
                elif isinstance(container, (list, tuple)) and part.isdigit() \
                        and int(part) < len(container):
                    container = container[int(part)]
                else:
                    raise ValueError(f"checkpoint {self.path}: {key!r} does not fit this run; "
                                     "delete it to start afresh")
            if not isinstance(container, dict) or meta.get(key, ["value"])[0] != "value":
                raise ValueError(f"checkpoint {self.path}: {key!r} does not fit this run; "
                                 "delete it to start afresh")
            container[name] = value
        return epoch + 1


def _code_key(stem: str) -> str:
    from shared.nbguard import notebook_hash
    digest = notebook_hash(stem + ".ipynb")
    if digest is not None:
        return digest
    commit = re.sub(r"[^A-Za-z0-9]+", "-", runtime.git_commit())
    if stem not in _keyed_by_commit:
        _keyed_by_commit.add(stem)
        print(f"checkpoints: {stem}.ipynb is not in {Path.cwd()}, so they are keyed by the "
              f"helpers' commit ({commit}) instead of the notebook's code")
    return f"commit-{commit}"


def _plain(value):
    # NumPy scalars in records (a float32 loss, say) as plain Python numbers
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot checkpoint a {type(value).__name__}")


def _leaves(obj, prefix=""):
    """(path, container, leaf) for every leaf of nested dicts / lists / tuples."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for k, v in items:
        key = f"{prefix}{k}"
        if isinstance(v, (dict, list, tuple)):
            yield from _leaves(v, key + "/")
        else:
            yield key, obj, v


def _encode(leaf):
    from shared.records import History
    if isinstance(leaf, np.random.Generator):
        return "rng", leaf.bit_generator.state
    if isinstance(leaf, History):
        return "history", leaf.rows
    if isinstance(leaf, (bool, int, float, str)) or leaf is None:
        return "value", leaf
    if hasattr(leaf, "numpy") and hasattr(leaf, "assign"):  # tf.Variable
        return "array", leaf.numpy()
    if isinstance(leaf, (np.ndarray, np.generic)):
        return "array", np.asarray(leaf)
    raise TypeError(f"cannot checkpoint a {type(leaf).__name__}")


def _restore(container, name, leaf, value, path):
    from shared.records import History
    slot = int(name) if isinstance(container, (list, tuple)) else name
    if isinstance(leaf, np.random.Generator):
        leaf.bit_generator.state = value
    elif isinstance(leaf, History):
        leaf.rows[:] = value
    elif isinstance(leaf, np.generic) or not hasattr(leaf, "shape"):
        container[slot] = type(leaf)(value) if leaf is not None else value
    elif tuple(leaf.shape) != tuple(np.shape(value)):
        raise ValueError(f"checkpoint {path}: {name} has shape {np.shape(value)}, the run "
                         f"{tuple(leaf.shape)}; delete it to start this run afresh")
    elif isinstance(leaf, np.ndarray):
        leaf[...] = value  # in place: other references to the array see the restored values
    else:
        leaf.assign(value)  # tf.Variable
