"""Interrupted training runs resume to the same final state as uninterrupted ones.

Each notebook's own training loop (loaded with shared.nbload) is run on tiny data with
checkpoints switched on (as at the full budget): once straight through, and once interrupted
right after epoch 2 and then called again. The second call must pick up at epoch 3 and end with
exactly the same weights, optimiser state and records as the straight run. Notebook 05's is its
hand-written step on a tiny wide residual network.
"""
import numpy as np
import pytest

import shared.checkpoint
from shared import nbload
from shared.checkpoint import Checkpoint

from notebook_loops import tiny_all_cnn, tiny_tree_net, with_loop  # tests/notebook_loops.py

EPOCHS = 4


class Interrupted(Exception):
    pass


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


def straight_and_resumed(control, run):
    """Final checkpoints of a straight run and of a run interrupted after epoch 2, resumed."""
    control.use("straight")
    control.interrupt_after(None)
    straight_result = run()
    control.use("resumed")
    control.interrupt_after(2)
    with pytest.raises(Interrupted):
        run()
    stopped = control.final_arrays("resumed")
    # the interrupted run stopped right after its epoch 2 (a run trained beside it may be behind)
    assert max(epoch for epoch, _, _ in stopped.values()) == 2
    control.interrupt_after(None)
    resumed_result = run()
    return (control.final_arrays("straight"), straight_result,
            control.final_arrays("resumed"), resumed_result)


def assert_same_checkpoints(a, b):
    assert a.keys() == b.keys()
    for name in a:
        (epoch_a, arrays_a, state_a), (epoch_b, arrays_b, state_b) = a[name], b[name]
        assert epoch_a == epoch_b == EPOCHS, name
        assert arrays_a.keys() == arrays_b.keys(), name
        for key in arrays_a:
            assert arrays_a[key].tobytes() == arrays_b[key].tobytes(), f"{name}: {key} differs"
        assert _strip_seconds(state_a) == _strip_seconds(state_b), name


def _strip_seconds(state):
    # wall-clock fields differ between any two runs; everything else must be equal
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()
                    if "seconds" not in k and k.rsplit("/", 1)[-1] != "waited"}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value
    return clean(state)


def test_nb02_loops_resume(checkpoint_dirs):
    ns = nbload.load("02_multichannel_cnn_digits.ipynb")
    from shared.data import load_digits
    x, y = load_digits()
    ns["x_all"], ns["y_all"] = x[:300, ..., None] / 16.0, y[:300]
    with_loop(ns, "02_multichannel_cnn_digits", checkpoint=True)
    arch = ns["make_arch"]((2, 4), wiring="article", head="softmax")
    a, ha, b, hb = straight_and_resumed(checkpoint_dirs,
                                        lambda: ns["train_tenclass"](arch, 0, EPOCHS))
    assert_same_checkpoints(a, b)
    assert ha["test_loss"] == hb["test_loss"] and len(hb) == EPOCHS


def test_nb01_loops_resume(checkpoint_dirs):
    ns = nbload.load("01_numpy_resnet_stochastic_depth.ipynb")
    rng = np.random.default_rng(0)
    with_loop(ns, "01_numpy_resnet_stochastic_depth", checkpoint=True)
    ns.update(x_val=rng.random((20, 784), dtype=np.float32), y_val=rng.integers(0, 10, 20))
    x, y = rng.random((300, 784), dtype=np.float32), rng.integers(0, 10, 300)

    def run():
        # two runs one after the other, the second with stochastic depth, as in the notebook
        runs = [ns["make_run"]("constant", 3, 16, EPOCHS, 300, seed=0),
                ns["make_run"]("stochastic", 3, 16, EPOCHS, 300, seed=0,
                               survival=np.array([1.0, 0.8, 0.6]))]
        for run in runs:
            ns["train"](run, x, y, ns["x_val"], ns["y_val"])
        return [r["history"]["train_loss"] for r in runs]
    a, ha, b, hb = straight_and_resumed(checkpoint_dirs, run)
    assert_same_checkpoints(a, b)
    assert ha == hb


def test_nb03_loop_resumes(checkpoint_dirs):
    ns = tiny_tree_net(EPOCHS, learning_rate=1e-3, checkpoint=True)

    def run():
        autodiff = ns["train"]("autodiff", ns["make_autodiff_step"]("relu"))
        by_hand = ns["train"]("by hand", *ns["hand_run"](ns["Deviations"]()))
        return autodiff["test_loss"], by_hand["test_loss"]
    a, ha, b, hb = straight_and_resumed(checkpoint_dirs, run)
    assert_same_checkpoints(a, b)
    assert ha == hb


def test_nb04_loop_resumes(checkpoint_dirs):
    ns, images, labels = tiny_all_cnn(checkpoint=True)

    def run():
        batches = ns["EpochBatches"](images, labels, ns["article_augmenter"](), 4, 0, EPOCHS)
        histories = []
        for case in (ns["Case"]("g", "All-CNN", "amsgrad", "by hand", skips=True),
                     ns["Case"]("f", "All-CNN", "adam", "autodiff")):
            history, _ = ns["train_case"](case, ns["init"]["All-CNN"], batches, EPOCHS,
                                          (ns["x_test"], ns["y_test"]), ns["standardize"])
            histories.append(history["test_loss"])
        return histories
    a, ha, b, hb = straight_and_resumed(checkpoint_dirs, run)
    assert_same_checkpoints(a, b)
    assert ha == hb


def test_nb05_steps_resume(checkpoint_dirs):
    # notebook 05's make_step on a tiny WRN, trained with the done-right recipe (its SGD, its
    # augmented batches and schedule) at batch 16
    from shared.recipe import RECIPE
    from shared.train import TrainingLoop
    nb = nbload.load("05_wide_resnet.ipynb")
    block, recipe = nb["Block"], {**RECIPE, "batch": 16}
    net = nb["Net"]("batch", 4, False, (block("g1b1", 4, 8, 2, shortcut=1), block("g1b2", 8, 8)),
                    "dense")
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 3)).astype(np.float32)
    y = np.arange(32) % 10

    def run():
        params = nb["make_variables"](nb["init_params"](net, "he", 0))
        stats, sgd = nb["new_stats"](nb["norm_channels"](params)), nb["make_sgd"](params, recipe)
        batches = nb["AugmentedBatches"](x, y, EPOCHS, np.random.default_rng(1), recipe)
        loop = TrainingLoop("05_wide_resnet", "full")
        step = nb["make_step"](params, net, sgd, stats, recipe["smoothing"])
        history = loop.run("tiny WRN", step, batches, EPOCHS, progress=False,
                           state={"params": params, "stats": stats, "sgd": sgd.state_variables(),
                                  "rng": batches.rng})
        return history["train_loss"]
    a, ha, b, hb = straight_and_resumed(checkpoint_dirs, run)
    assert_same_checkpoints(a, b)
    assert ha == hb


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
