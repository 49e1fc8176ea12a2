"""Fixtures of the notebooks' tests."""
import pytest

import shared.checkpoint
from shared.checkpoint import Checkpoint

from notebook_loops import Interrupted


@pytest.fixture
def checkpoint_dirs(tmp_path, monkeypatch):
    """use("a") points every Checkpoint at tmp_path/a; interrupt_after(n) makes save_state raise
    right after it has saved epoch n (a kernel killed between two epochs)."""
    original = Checkpoint.save_state

    class Control:
        def use(self, name):
            monkeypatch.setattr(shared.checkpoint, "CHECKPOINT_DIR", tmp_path / name)

        def interrupt_after(self, epoch):
            def save_then_stop(ckpt, e, state):
                original(ckpt, e, state)
                if epoch is not None and e == epoch:
                    raise Interrupted(f"stopped after epoch {e}")
            monkeypatch.setattr(Checkpoint, "save_state", save_then_stop)

        def final_arrays(self, name):
            files = sorted((tmp_path / name).rglob("*.npz"))
            assert files, f"no checkpoint written under {tmp_path / name}"
            return {f.relative_to(tmp_path / name).as_posix(): Checkpoint(f).load() for f in files}

    return Control()

