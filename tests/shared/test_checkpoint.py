"""shared.checkpoint: a checkpoint of another run is refused, nothing is written unless asked, a
write is atomic. (A resumed run ending bit for bit as a straight one: test_train.py; each
notebook's loops: tests/notebooks/.)"""
import errno

import numpy as np
import pytest

import shared.checkpoint
from shared.checkpoint import Checkpoint


def test_checkpoint_from_another_run_is_refused(tmp_path):
    ckpt = Checkpoint(tmp_path / "x")
    ckpt.save_state(1, {"w": np.zeros(3)})
    with pytest.raises(ValueError, match="delete it"):
        ckpt.resume({"w": np.zeros(4)})
    with pytest.raises(ValueError, match="delete it"):
        ckpt.resume({"u": np.zeros(3)})



def test_checkpoints_are_off_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(shared.checkpoint, "CHECKPOINT_DIR", tmp_path)
    ckpt = Checkpoint.for_run("02_multichannel_cnn_digits", "a run", "full", enabled=False)
    ckpt.save_state(1, {"w": np.zeros(3)})
    assert ckpt.resume({"w": np.ones(3)}) == 1 and not any(tmp_path.iterdir())



def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    ckpt = Checkpoint(tmp_path / "c")
    ckpt.save(1, {"w": np.ones(3)}, {"k": 1})

    def crash(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError):
        ckpt.save(2, {"w": np.zeros(3)}, {"k": 2})
    epoch, arrays, state = ckpt.load()
    assert epoch == 1 and arrays["w"].tolist() == [1, 1, 1] and state == {"k": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]

