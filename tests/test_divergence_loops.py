"""Every training loop of the series stops with a clear DivergenceError at a huge learning rate.

The loops are taken from the notebooks themselves (shared.nbload), fed tiny data, and run with a
deliberately absurd learning rate. (Notebook 05's steps are tested in
test_nb05_divergence.py. Notebook 02's 0-vs-1 loop cannot diverge: its cost, an L2 cost on a
sigmoid output, is at most 0.5 whatever the weights; its 10-class softmax loop is tested here.)
"""
import numpy as np
import pytest

from shared import nbload
from shared.records import DivergenceError

from notebook_loops import tiny_all_cnn, tiny_tree_net, with_loop  # tests/notebook_loops.py


def test_nb02_tenclass_loop_stops():
    ns = nbload.load("02_multichannel_cnn_digits.ipynb")
    from shared.data import load_digits
    x, y = load_digits()
    ns["x_all"], ns["y_all"] = x[:200, ..., None] / 16.0, y[:200]
    with_loop(ns, "02_multichannel_cnn_digits", checkpoint=False)
    arch = ns["make_arch"]((2, 4), wiring="article", head="softmax")
    with pytest.raises(DivergenceError, match="diverged at epoch 1, step"):
        ns["train_tenclass"](arch, 0, 2, lr=1e4)


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


def test_nb04_case_loop_stops():
    ns, images, labels = tiny_all_cnn(checkpoint=False, BASE_LR=1e4)
    batches = ns["EpochBatches"](images, labels, ns["article_augmenter"](), 4, 0, 2)
    case = ns["Case"]("g", "All-CNN", "amsgrad", "by hand")
    with pytest.raises(DivergenceError, match="diverged at epoch 1, step"):
        ns["train_case"](case, ns["init"]["All-CNN"], batches, 2, (ns["x_test"], ns["y_test"]),
                         ns["standardize"])


def test_nb03_train_loop_stops():
    ns = tiny_tree_net(2, learning_rate=1e6, checkpoint=False)
    with pytest.raises(DivergenceError, match="diverged at epoch 1, step"):
        ns["train"]("huge lr", ns["make_autodiff_step"]("relu"))
