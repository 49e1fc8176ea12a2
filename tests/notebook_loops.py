"""Tiny set-ups of the notebooks' own training loops, shared by the notebooks' tests (divergence
guard, interrupt-and-resume), and the interrupt-and-resume harness. Each set-up loads the
notebook's definitions with shared.nbload and feeds them a few random images instead of its data."""
import numpy as np
import pytest

from shared import nbload
from shared.data import Standardizer
from shared.runtime import seed_everything
from shared.train import TrainingLoop


def with_loop(ns: dict, notebook: str, checkpoint: bool, **cfg) -> dict:
    """Give a loaded notebook the cfg and the TrainingLoop that its setup cells would create."""
    ns["cfg"] = {"budget": "quick", **cfg}
    ns["loop"] = TrainingLoop(notebook, "quick", checkpoints=checkpoint)
    return ns


def tiny_tree_net(epochs: int, learning_rate: float, checkpoint: bool) -> dict:
    """Notebook 03's article runs for a 4-channel tree with 8-unit dense layers, trained on the
    same 8 random 8x8 images every epoch. The notebook's functions take its ``TreeState`` and
    ``ArticleData`` as arguments; here ``train(name, step, ...)``, ``make_autodiff_step(act)``,
    ``hand_run(dev)`` and ``params`` are bound to one tiny state, as the notebook's cells use
    them."""
    ns = nbload.load("03_tree_net.ipynb")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    with_loop(ns, "03_tree_net", checkpoint, epochs=epochs, train_images=8)
    seed_everything(0)   # as the notebook does: TensorFlow's deterministic kernels
    layout = ns["tree_layout"](width=4, dense=8, height=8, image_width=8)
    state = ns["new_tree_state"](layout, 0, learning_rate)
    data = ns["ArticleData"]([(x, y)] * epochs, x, y, 4)
    train, autodiff, hand = ns["train"], ns["make_autodiff_step"], ns["hand_run"]

    def bound_train(name, step, *args, **kwargs):
        return train(state, data, ns["loop"], name, step, *args, **kwargs)
    ns.update(state=state, params=state.params, layout=layout, train=bound_train,
              make_autodiff_step=lambda act: autodiff(state, act),
              hand_run=lambda dev: hand(state, dev))
    return ns


def tiny_all_cnn(checkpoint: bool, **overrides):
    """Notebook 04's definitions set up for All-CNN on 8 random 32x32 images, which also serve as
    the test set. Returns (namespace, images, labels); ``overrides`` replace notebook constants
    (BASE_LR, say)."""
    ns = nbload.load("04_all_cnn.ipynb")
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(8) % 10
    seed_everything(0)   # as the notebook does: TensorFlow's deterministic kernels
    standardize = Standardizer(images)
    with_loop(ns, "04_all_cnn", checkpoint)
    ns.update(CHUNK=4, standardize=standardize,
              x_test=standardize(images), y_test=labels,
              init={"All-CNN": ns["init_weights"](ns["ALL_CNN"], 0)}, **overrides)
    return ns, images, labels


def tree_net_rerun_weights(ns: dict, runs: int) -> dict:
    """Train notebook 03's autodiff run, then its correct hand-written run, ``runs`` times each
    in this process (``ns`` from tiny_tree_net). -> {"autodiff": [...], "by hand": [...]}: each
    run's final weights as bytes, for bit-for-bit comparison."""
    steps = {"autodiff": lambda: (ns["make_autodiff_step"]("relu"),),
             "by hand": lambda: ns["hand_run"](ns["Deviations"]())}
    finals = {}
    for name, make_step in steps.items():
        finals[name] = []
        for _ in range(runs):
            ns["train"](name, *make_step())
            finals[name].append(b"".join(v.numpy().tobytes() for v in ns["params"].values()))
    return finals


# ------------------------------------------------------------------ interrupt and resume
EPOCHS = 3   # every resume test trains this many epochs, interrupted after epoch 2


class Interrupted(Exception):
    pass


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

