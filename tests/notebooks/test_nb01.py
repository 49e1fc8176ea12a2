"""Notebook 01's training loops: they stop on a diverging loss and resume after an interruption
to the same final state (the notebook's own functions, loaded with shared.nbload, on tiny data)."""
import numpy as np
import pytest

from shared import nbload
from shared.records import DivergenceError

from notebook_loops import EPOCHS, assert_same_checkpoints, straight_and_resumed, with_loop


@pytest.fixture(scope="module")
def nb01():
    ns = nbload.load("01_numpy_resnet_stochastic_depth.ipynb")
    rng = np.random.default_rng(0)
    ns["x_val"] = rng.random((20, 784), dtype=np.float32)
    ns["y_val"] = rng.integers(0, 10, 20)
    return with_loop(ns, "01_numpy_resnet_stochastic_depth", checkpoint=False)



def test_nb01_published_loop_stops(nb01):
    rng = np.random.default_rng(1)
    nb01.update(x_pub_tr=rng.random((30, 784), dtype=np.float32), y_pub_tr=rng.integers(0, 10, 30),
                x_pub_te=rng.random((10, 784), dtype=np.float32), y_pub_te=rng.integers(0, 10, 10),
                LR_MAIN=1e6, LR_SHORTCUT=1e6)
    params = nb01["published_init"](nb01["PUBLISHED_SIZES"], rng)
    with pytest.raises(DivergenceError, match="diverged at epoch 1, step"):
        nb01["train_published"](params, 2, rng)



@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow / NaN the guard then catches
def test_nb01_done_right_loop_stops(nb01):
    rng = np.random.default_rng(2)
    x, y = rng.random((256, 784), dtype=np.float32), rng.integers(0, 10, 256)
    nb01["LR"] = 1e6
    run = nb01["make_run"]("huge lr", 3, 32, 2, 256, seed=0)
    with pytest.raises(DivergenceError, match="diverged at epoch 1, step"):
        nb01["train"](run, x, y, nb01["x_val"], nb01["y_val"])



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

