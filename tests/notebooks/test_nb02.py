"""Notebook 02: randomised checks of its NumPy convolution, max-pool and per-channel activation
layers; its 10-class loop stops on a diverging loss and resumes after an interruption.

The layers live in the notebook (only it uses them), so this test reads their definitions from the
.ipynb and checks them on random shapes, paddings and seeds, printing the trial on failure.
"""
import numpy as np
import pytest

from shared import nbload
from shared.gradcheck import numerical_gradient_array, rel_error
from shared.records import DivergenceError

from notebook_loops import EPOCHS, assert_same_checkpoints, straight_and_resumed, with_loop

LAYERS = ("zero_pad", "conv_forward", "conv_backward", "conv_forward_naive", "conv_backward_naive",
          "maxpool_forward", "maxpool_backward", "maxpool_forward_naive",
          "maxpool_backward_naive",
          "channel_activation_forward", "channel_activation_backward")


@pytest.fixture(scope="module")
def nb():
    namespace = nbload.load("02_multichannel_cnn_digits.ipynb")
    missing = [name for name in LAYERS if name not in namespace]
    assert not missing, f"notebook 02 no longer defines {missing}"
    return namespace


@pytest.mark.parametrize("seed", range(8))
def test_conv_matches_loops_and_central_differences(nb, seed):
    rng = np.random.default_rng(seed)
    n, h, w, c_in, c_out = rng.integers(1, 4), rng.integers(2, 7), rng.integers(2, 7), \
        rng.integers(1, 4), rng.integers(1, 5)
    k, pad = rng.choice([1, 3]), rng.integers(0, 3)
    if h + 2 * pad < k or w + 2 * pad < k:
        pad = k
    trial = dict(seed=seed, x=(n, h, w, c_in), kernel=(k, k, c_in, c_out), pad=pad)
    x = rng.standard_normal((n, h, w, c_in))
    kernel = rng.standard_normal((k, k, c_in, c_out))
    out, cache = nb["conv_forward"](x, kernel, pad)
    assert rel_error(out, nb["conv_forward_naive"](x, kernel, pad)) < 1e-12, trial
    dout = rng.standard_normal(out.shape)
    dx, dkernel = nb["conv_backward"](dout, cache)
    forward = nb["conv_forward"]
    num_dx = numerical_gradient_array(lambda z: forward(z, kernel, pad)[0], x, dout, h=1e-3)
    num_dk = numerical_gradient_array(lambda z: forward(x, z, pad)[0], kernel, dout, h=1e-3)
    assert rel_error(dx, num_dx) < 1e-7, trial
    assert rel_error(dkernel, num_dk) < 1e-7, trial
    dx_loop, dkernel_loop = nb["conv_backward_naive"](dout, x, kernel, pad)
    assert rel_error(dx, dx_loop) < 1e-10, trial
    assert rel_error(dkernel, dkernel_loop) < 1e-10, trial


@pytest.mark.parametrize("seed", range(8))
def test_maxpool_gradient_and_broken_variants(nb, seed):
    rng = np.random.default_rng(100 + seed)
    size = 2 * rng.integers(1, 4)
    x = rng.standard_normal((rng.integers(1, 3), size, size, rng.integers(1, 4)))
    out, cache = nb["maxpool_forward"](x)
    assert np.array_equal(out, nb["maxpool_forward_naive"](x))
    dout = rng.standard_normal(out.shape)
    dx = nb["maxpool_backward"](dout, cache)
    num_loops = numerical_gradient_array(nb["maxpool_forward_naive"], x, dout)
    assert rel_error(nb["maxpool_backward_naive"](dout, x), num_loops) < 1e-7
    num = numerical_gradient_array(lambda z: nb["maxpool_forward"](z)[0], x, dout)
    assert rel_error(dx, num) < 1e-7, dict(seed=seed, x=x.shape)
    both = nb["maxpool_backward"](dout, cache, transpose_grad=True, transpose_mask=True)
    assert np.array_equal(both, dx.transpose(0, 2, 1, 3))
    for switches in ({}, {"transpose_grad": True}, {"transpose_mask": True},
                     {"transpose_grad": True, "transpose_mask": True}):
        assert np.array_equal(nb["maxpool_backward"](dout, cache, **switches),
                              nb["maxpool_backward_naive"](dout, x, **switches)), switches
    for alteration in ({"transpose_grad": True}, {"transpose_mask": True}):
        broken = nb["maxpool_backward"](dout, cache, **alteration)
        # every window still passes on exactly what it received, only to the wrong place
        assert np.isclose(np.abs(broken).sum(), np.abs(dout).sum())


def test_maxpool_ties_pass_the_gradient_once(nb):
    x = np.zeros((1, 4, 4, 2))                       # every window is a four-way tie
    out, cache = nb["maxpool_forward"](x)
    dout = np.ones(out.shape)
    dx = nb["maxpool_backward"](dout, cache)
    assert dx.sum() == dout.sum()
    assert np.all(dx[:, ::2, ::2] == 1)              # the first element in reading order wins


def test_channel_activations(nb):
    rng = np.random.default_rng(7)
    kinds = ("tanh", "relu", "sigmoid", "arctan")
    x = rng.standard_normal((2, 3, 3, 4))
    x += 0.05 * np.sign(x)                           # keep ReLU inputs off the kink
    out, cache = nb["channel_activation_forward"](x, kinds)
    dout = rng.standard_normal(out.shape)
    num = numerical_gradient_array(lambda z: nb["channel_activation_forward"](z, kinds)[0], x, dout)
    assert rel_error(nb["channel_activation_backward"](dout, cache), num) < 1e-7


def test_evaluate_net_is_the_articles_cost_and_accuracy(nb):
    # shared.recipe.evaluate with the per-image L2 cost: its mean is l2_cost, its predictions
    # are the sigmoid output thresholded at 0.5; the softmax head's cost is the cross-entropy
    rng = np.random.default_rng(9)
    x, y = rng.random((40, 8, 8, 1)), rng.integers(0, 2, 40)
    arch = nb["make_arch"]()
    params = nb["init_params"](arch, rng)
    out, _ = nb["net_forward"](params, arch, x)
    cost, acc, correct = nb["evaluate_net"](params, arch, x, y)
    assert np.isclose(cost, nb["cost"](out, y, arch)[0], rtol=1e-12)
    assert np.array_equal(correct, (out[:, 0] > 0.5) == y) and acc == correct.mean()
    arch10 = nb["make_arch"]((2, 4), head="softmax")
    params10 = nb["init_params"](arch10, rng)
    y10 = rng.integers(0, 10, 40)
    logits, _ = nb["net_forward"](params10, arch10, x)
    cost10, _, correct10 = nb["evaluate_net"](params10, arch10, x, y10)
    assert np.isclose(cost10, nb["cost"](logits, y10, arch10)[0], rtol=1e-12)
    assert np.array_equal(correct10, logits.argmax(axis=1) == y10)


def test_bad_inputs_give_clear_errors(nb):
    with pytest.raises(ValueError, match="even"):
        nb["maxpool_forward"](np.zeros((1, 5, 4, 1)))
    with pytest.raises(ValueError, match="C_in"):
        nb["conv_forward"](np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 3, 1)))
    with pytest.raises(ValueError, match="square"):
        out, cache = nb["maxpool_forward"](np.zeros((1, 4, 6, 1)))
        nb["maxpool_backward"](np.zeros(out.shape), cache, transpose_grad=True)
    with pytest.raises(ValueError, match="channels"):
        nb["channel_activation_forward"](np.zeros((1, 2, 2, 3)), ("relu", "tanh"))


def test_nb02_tenclass_loop_stops():
    ns = nbload.load("02_multichannel_cnn_digits.ipynb")
    from shared.data import load_digits
    x, y = load_digits()
    ns["x_all"], ns["y_all"] = x[:200, ..., None] / 16.0, y[:200]
    with_loop(ns, "02_multichannel_cnn_digits", checkpoint=False)
    arch = ns["make_arch"]((2, 4), wiring="article", head="softmax")
    with pytest.raises(DivergenceError, match="diverged at epoch 1, step"):
        ns["train_tenclass"](arch, 0, 2, lr=1e4)



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

