"""Notebook 03: the tree net's hand-written backward on other shapes; its training loop stops on a
diverging loss, resumes after an interruption, and repeats bit for bit.

The notebook checks the article's sizes on 8x8 images; here the same code, taken from the
notebook's cells, is checked on a non-square input and a narrow net, and bad sizes must be refused.
"""
import numpy as np
import pytest

from shared import nbload
from shared.recipe import make_variables
from shared.gradcheck import assert_grads_close
from shared.records import DivergenceError
from shared.runtime import import_tensorflow

from notebook_loops import (EPOCHS, assert_same_checkpoints, straight_and_resumed, tiny_tree_net,
                            tree_net_rerun_weights)

tf = import_tensorflow()


@pytest.fixture(scope="module")
def nb():
    ns = nbload.load("03_tree_net.ipynb")
    missing = [name for name in ("tree_layout", "initial_weights", "tree_forward", "article_loss",
                                 "tree_backward", "article_tree_backward", "Deviations",
                                 "right_weights", "right_forward", "right_backward")
               if name not in ns]
    assert not missing, f"notebook 03 no longer defines {missing}"
    return ns


@pytest.mark.parametrize("height,width,channels,dense", [(12, 8, 5, 7), (8, 16, 3, 11)])
def test_tree_backward_matches_tape(nb, height, width, channels, dense):
    rng = np.random.default_rng(1)
    layout = nb["tree_layout"](width=channels, dense=dense, height=height, image_width=width)
    params = make_variables(nb["initial_weights"](layout, seed=3), tf.float64)
    x = tf.constant(rng.normal(size=(5, height, width, 3)))
    y = tf.constant(rng.integers(0, 10, size=5))
    with tf.GradientTape() as tape:
        logits, caches = nb["tree_forward"](params, x)
        loss, dlogits = nb["article_loss"](logits, y)
    reference = tape.gradient(loss, params)
    hand = nb["tree_backward"](dlogits, caches)
    assert_grads_close({k: hand[k] for k in params}, reference, 1e-6)


def test_each_deviation_changes_the_gradient(nb):
    rng = np.random.default_rng(2)
    layout = nb["tree_layout"](width=4, dense=6, height=8, image_width=8)
    params = make_variables(nb["initial_weights"](layout, seed=4), tf.float64)
    x = tf.constant(rng.normal(size=(4, 8, 8, 3)))
    logits, caches = nb["tree_forward"](params, x)
    _, dlogits = nb["article_loss"](logits, tf.constant(rng.integers(0, 10, size=4)))
    true = nb["tree_backward"](dlogits, caches)
    Deviations = nb["Deviations"]
    plain = nb["article_tree_backward"](dlogits, caches, Deviations(), 0.5)
    assert_grads_close({k: plain[k] for k in params}, true, 1e-12)
    for flag, r in (("bn_identity", 0.0), ("dilated", 0.5), ("concat_mixup", 0.0)):
        grads = nb["article_tree_backward"](dlogits, caches, Deviations(**{flag: True}), r)
        with pytest.raises(AssertionError):
            assert_grads_close({k: grads[k] for k in params}, true, 1e-6)


@pytest.mark.parametrize("height,width", [(12, 8), (8, 16)])
def test_done_right_backward_matches_tape(nb, height, width):
    rng = np.random.default_rng(5)
    params = make_variables(nb["right_weights"](3, seed=6), tf.float64)
    # a zero head passes no gradient
    params["head/w"].assign(rng.normal(size=params["head/w"].shape))
    x = tf.constant(rng.normal(size=(5, height, width, 3)))
    y = tf.constant(rng.integers(0, 10, size=5))
    with tf.GradientTape() as tape:
        logits, caches = nb["right_forward"](params, x)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    dlogits = (tf.nn.softmax(logits) - tf.one_hot(y, 10, dtype=tf.float64)) / 5
    hand = nb["right_backward"](dlogits, caches)
    assert_grads_close({k: hand[k] for k in params}, tape.gradient(loss, params), 1e-6)


@pytest.mark.parametrize("height,width", [(30, 32), (32, 6)])
def test_sizes_not_divisible_by_four_are_refused(nb, height, width):
    with pytest.raises(ValueError, match="divisible by 4"):
        nb["tree_layout"](height=height, image_width=width)


def test_correct_backprop_builds_no_dilated_terms(nb):
    # the article's walk with no switch on is the one the ablation's reference uses; r reaches
    # the gradient only through the article's "dilated" terms; correct backprop must not
    # compute them at all (not even as r = 0 times a gradient), so a NaN r leaves it untouched
    rng = np.random.default_rng(5)
    layout = nb["tree_layout"](width=4, dense=6, height=8, image_width=8)
    params = make_variables(nb["initial_weights"](layout, seed=6), tf.float64)
    logits, caches = nb["tree_forward"](params, tf.constant(rng.normal(size=(4, 8, 8, 3))))
    _, dlogits = nb["article_loss"](logits, tf.constant(rng.integers(0, 10, size=4)))
    nan = tf.constant(np.nan, tf.float64)
    correct = nb["article_tree_backward"](dlogits, caches, nb["Deviations"](), nan)
    assert all(np.isfinite(g.numpy()).all() for g in correct.values())
    dilated = nb["article_tree_backward"](dlogits, caches, nb["Deviations"](dilated=True), nan)
    assert not np.isfinite(dilated["l3_1_1/w"].numpy()).all()  # the test can tell


def test_nb03_train_loop_stops():
    ns = tiny_tree_net(2, learning_rate=1e6, checkpoint=False)
    with pytest.raises(DivergenceError, match="diverged at epoch 1, step"):
        ns["train"]("huge lr", ns["make_autodiff_step"]("relu"))



def test_nb03_loop_resumes(checkpoint_dirs):
    ns = tiny_tree_net(EPOCHS, learning_rate=1e-3, checkpoint=True)

    def run():
        autodiff = ns["train"]("autodiff", ns["make_autodiff_step"]("relu"))
        by_hand = ns["train"]("by hand", *ns["hand_run"](ns["Deviations"]()))
        return autodiff["test_loss"], by_hand["test_loss"]
    a, ha, b, hb = straight_and_resumed(checkpoint_dirs, run)
    assert_same_checkpoints(a, b)
    assert ha == hb



RUNS = 2   # a rerun that differs from the first shows nondeterminism; a third adds little


def test_tree_net_trainings_repeat_bit_for_bit():
    # seeding and TensorFlow's op determinism (shared.runtime) with TensorFlow's own CPU kernels,
    # which conftest.py selects for the tests: the same training twice ends bit for bit alike
    finals = tree_net_rerun_weights(tiny_tree_net(4, learning_rate=1e-3, checkpoint=False), RUNS)
    for name, runs in finals.items():
        differing = [i for i, w in enumerate(runs) if w != runs[0]]
        assert not differing, f"{name}: runs {differing} ended with other weights than run 0"
    # the two paths are different code: equal to float32 round-off, not bit for bit
    autodiff, by_hand = (np.frombuffer(finals[k][0], np.float32) for k in ("autodiff", "by hand"))
    assert np.allclose(autodiff, by_hand, rtol=0, atol=1e-4)
