"""Gradient-check helpers: they pass right gradients and flag wrong ones."""
import numpy as np
import pytest

from shared import gradcheck as gc
from shared import layers_np as L


def test_rel_error_basics():
    assert gc.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert gc.rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    with pytest.raises(ValueError):
        gc.rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_quadratic():
    x = np.array([1.0, -2.0, 3.0])
    g = gc.numerical_gradient(lambda z: np.sum(z ** 2), x)
    assert gc.rel_error(g, 2 * x) < 1e-9


def test_numerical_gradient_needs_float64():
    with pytest.raises(TypeError):
        gc.numerical_gradient(np.sum, np.ones(3, dtype=np.float32))


def test_assert_grads_close_flags_a_wrong_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    dout = rng.normal(size=(4, 5))
    true = gc.numerical_gradient_array(lambda z: np.tanh(z), x, dout)
    right = L.tanh_backward(dout, np.tanh(x))
    wrong = dout * (1 - np.tanh(x))  # a plausible slip: forgot the square
    gc.assert_grads_close({"x": right}, {"x": true}, 1e-7)
    with pytest.raises(AssertionError, match="gradient check failed"):
        gc.assert_grads_close({"x": wrong}, {"x": true}, 1e-7)


def test_nan_gradient_fails():
    with pytest.raises(AssertionError):
        gc.assert_grads_close({"w": np.array([np.nan])}, {"w": np.array([1.0])}, 1e-3)


def test_table_prints_the_error_and_the_tolerance(capsys):
    rows = gc.assert_grads_close({"w": np.ones(3) * (1 + 3e-9)}, {"w": np.ones(3)}, 1e-7, "t")
    table = capsys.readouterr().out
    assert f"{rows[0]['rel_error']:.1e}" in table and "1.5e-09" in table
    assert "≤ 1e-07" in table and " ok" in table
    assert "cosine" not in table   # every cosine is 1.0000: the column carries nothing


def test_cosine_and_norm_columns_appear_when_informative():
    rows = gc.compare_grads({"a": np.ones(3), "b": np.array([1.0, 1.0, -1.0])},
                            {"a": np.ones(3), "b": np.ones(3)}, show=False)
    table = gc.format_grad_table(rows, tol=1e-7)
    assert "cosine" in table and "0.3333" in table and "FAIL" in table


def test_a_gradient_off_by_a_tenth_of_a_percent_fails():
    rng = np.random.default_rng(1)
    g = rng.normal(size=(3, 4))
    with pytest.raises(AssertionError, match=r"w \(5\.0e-04\)"):
        gc.assert_grads_close({"w": g * (1 + 1e-3)}, {"w": g}, 1e-7)


@pytest.mark.parametrize("trial", range(6))
def test_fuzz_numpy_layers(trial):
    """Random shapes: every shared NumPy layer's backward against central differences."""
    rng = np.random.default_rng(100 + trial)
    n, d, m = rng.integers(1, 5, size=3)
    x, w, b = rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)
    dout = rng.normal(size=(n, m))
    _, cache = L.dense_forward(x, w, b)
    dx, dw, db = L.dense_backward(dout, cache)
    num = {"x": gc.numerical_gradient_array(lambda z: L.dense_forward(z, w, b)[0], x, dout),
           "w": gc.numerical_gradient_array(lambda z: L.dense_forward(x, z, b)[0], w, dout),
           "b": gc.numerical_gradient_array(lambda z: L.dense_forward(x, w, z)[0], b, dout)}
    gc.assert_grads_close({"x": dx, "w": dw, "b": db}, num, 1e-7, title=f"trial {trial} {n,d,m}")
    for name, (fwd, bwd) in L.ACTIVATIONS.items():
        z = rng.normal(size=(n, m)) + 0.05  # keep ReLU inputs away from the kink at 0
        _, c = fwd(z)
        gc.assert_grads_close({name: bwd(dout, c)},
                              {name: gc.numerical_gradient_array(lambda q: fwd(q)[0], z, dout)},
                              1e-7, title=f"trial {trial}")
    labels = rng.integers(0, m, size=n)
    _, dlogits = L.softmax_cross_entropy(x @ w, labels)
    num = gc.numerical_gradient(lambda q: L.softmax_cross_entropy(q, labels)[0], x @ w)
    gc.assert_grads_close({"logits": dlogits}, {"logits": num}, 1e-7)
