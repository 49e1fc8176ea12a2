"""Hand-written TF layers against tf.GradientTape (float64), and Adam/AMSGrad against Keras."""
import numpy as np
import pytest

from shared.gradcheck import assert_grads_close, rel_error
from shared.runtime import import_tensorflow

tf = import_tensorflow()
from shared import tf_layers as L  # noqa: E402

RNG = np.random.default_rng(0)


def t64(*shape):
    return tf.constant(RNG.normal(size=shape), dtype=tf.float64)


def tape_grads(forward, inputs, dout):
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        out = forward(*inputs)
    return tape.gradient(out, inputs, output_gradients=dout)


@pytest.mark.parametrize("stride,padding,size", [(1, "SAME", 5), (2, "SAME", 6), (2, "SAME", 5),
                                                 (1, "VALID", 5), (2, "VALID", 7)])
def test_conv2d_backward(stride, padding, size):
    x, w = t64(2, size, size, 3), t64(3, 3, 3, 4)
    out, cache = L.conv2d_forward(x, w, stride, padding)
    dout = t64(*out.shape)
    dx, dw = L.conv2d_backward(dout, cache)
    ref = tape_grads(lambda a, b: L.conv2d_forward(a, b, stride, padding)[0], [x, w], dout)
    assert_grads_close({"x": dx, "w": dw}, {"x": ref[0], "w": ref[1]}, 1e-10)


@pytest.mark.parametrize("shape,with_gamma", [((4, 3, 3, 5), True), ((4, 3, 3, 5), False),
                                              ((6, 7), True)])
def test_batchnorm_backward(shape, with_gamma):
    x, beta = t64(*shape), t64(shape[-1])
    gamma = t64(shape[-1]) if with_gamma else None
    out, cache = L.batchnorm_forward(x, gamma, beta)
    dout = t64(*shape)
    dx, dgamma, dbeta = L.batchnorm_backward(dout, cache)
    inputs = [x, beta] + ([gamma] if with_gamma else [])
    ref = tape_grads(lambda a, b, *g: L.batchnorm_forward(a, g[0] if g else None, b)[0],
                     inputs, dout)
    manual = {"x": dx, "beta": dbeta} | ({"gamma": dgamma} if with_gamma else {})
    reference = {"x": ref[0], "beta": ref[1]} | ({"gamma": ref[2]} if with_gamma else {})
    assert_grads_close(manual, reference, 1e-8)


def test_batchnorm_identity_backward_is_wrong():
    """The check must be able to fail: treating BN as the identity is flagged."""
    x = t64(4, 3, 3, 5)
    out, cache = L.batchnorm_forward(x, None, t64(5))
    dout = t64(*out.shape)
    ref = tape_grads(lambda a: L.batchnorm_forward(a, None, None)[0], [x], dout)
    with pytest.raises(AssertionError):
        assert_grads_close({"x": dout}, {"x": ref[0]}, 1e-6)


@pytest.mark.parametrize("name", ["relu", "elu", "avgpool2x2", "global_avgpool", "dense"])
def test_simple_layers(name):
    if name == "dense":
        x, w = t64(4, 5), t64(5, 3)
        out, cache = L.dense_forward(x, w)
        dout = t64(*out.shape)
        dx, dw = L.dense_backward(dout, cache)
        ref = tape_grads(lambda a, b: L.dense_forward(a, b)[0], [x, w], dout)
        assert_grads_close({"x": dx, "w": dw}, {"x": ref[0], "w": ref[1]}, 1e-10)
        return
    forward, backward = getattr(L, f"{name}_forward"), getattr(L, f"{name}_backward")
    x = t64(2, 4, 4, 3)
    out, cache = forward(x)
    dout = t64(*out.shape)
    ref = tape_grads(lambda a: forward(a)[0], [x], dout)
    assert_grads_close({"x": backward(dout, cache)}, {"x": ref[0]}, 1e-10)


def test_softmax_cross_entropy_gradient():
    logits, labels = t64(5, 10), tf.constant([0, 3, 9, 3, 1])
    loss, dlogits = L.softmax_cross_entropy(logits, labels)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        ref_loss = L.softmax_cross_entropy(logits, labels)[0]
    assert rel_error(loss, ref_loss) < 1e-12
    assert rel_error(dlogits, tape.gradient(ref_loss, logits)) < 1e-10


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_keras(amsgrad):
    start = [RNG.normal(size=(3, 4)), RNG.normal(size=(4,))]
    grads = [[RNG.normal(size=s.shape) * (1 + k) for s in start] for k in range(6)]
    # float32: Keras keeps its slot variables in float32 whatever the variable's dtype
    start = [w.astype(np.float32) for w in start]
    grads = [[g.astype(np.float32) for g in step] for step in grads]
    ours = [tf.Variable(w) for w in start]
    theirs = [tf.Variable(w) for w in start]
    lr = 2.0 ** -6  # exactly representable: Keras keeps its learning rate in float32
    opt = L.Adam(ours, learning_rate=lr, amsgrad=amsgrad)
    keras_opt = tf.keras.optimizers.Adam(learning_rate=lr, amsgrad=amsgrad)
    for g in grads:
        opt.apply([tf.constant(x) for x in g])
        keras_opt.apply_gradients(zip([tf.constant(x) for x in g], theirs))
    for a, b in zip(ours, theirs):
        assert rel_error(a.numpy(), b.numpy()) < 1e-5  # float32 round-off; a wrong step is >1e-2


def test_amsgrad_differs_from_adam():
    """AMSGrad's running maximum must matter once gradients shrink."""
    w0 = np.ones(3)
    runs = {}
    for amsgrad in (False, True):
        var = [tf.Variable(w0)]
        opt = L.Adam(var, learning_rate=0.1, beta_2=0.5, amsgrad=amsgrad)
        for scale in (10.0, 0.1, 0.1, 0.1):
            opt.apply([tf.constant(np.full(3, scale))])
        runs[amsgrad] = var[0].numpy()
    assert rel_error(runs[False], runs[True]) > 1e-3


def test_label_smoothing_gradient():
    logits, labels = t64(5, 10), tf.constant([0, 3, 9, 3, 1])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss, dlogits = L.softmax_cross_entropy(logits, labels, label_smoothing=0.2)
    assert rel_error(dlogits, tape.gradient(loss, logits)) < 1e-10
    plain_loss, plain_dlogits = L.softmax_cross_entropy(logits, labels)
    assert rel_error(dlogits, plain_dlogits) > 1e-2  # the smoothing must change the target


def test_batchnorm_inference_with_batch_statistics_is_training_mode():
    x, gamma, beta = t64(4, 3, 3, 5), t64(5), t64(5)
    out, cache = L.batchnorm_forward(x, gamma, beta)
    mean, var = cache[-1]
    assert rel_error(L.batchnorm_inference(x, mean, var, gamma, beta), out) < 1e-12
    out, cache = L.batchnorm_forward(x, None, None)
    assert rel_error(L.batchnorm_inference(x, *cache[-1], None, None), out) < 1e-12


@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_momentum_matches_keras(nesterov):
    start = [RNG.normal(size=(3, 4)).astype(np.float32), RNG.normal(size=(4,)).astype(np.float32)]
    grads = [[RNG.normal(size=w.shape).astype(np.float32) for w in start] for _ in range(5)]
    ours, theirs = [tf.Variable(w) for w in start], [tf.Variable(w) for w in start]
    lr = 2.0 ** -4
    opt = L.SGD(ours, momentum=0.9, nesterov=nesterov)
    keras_opt = tf.keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=nesterov)
    for g in grads:
        opt.apply([tf.constant(a) for a in g], lr)
        keras_opt.apply_gradients(zip([tf.constant(a) for a in g], theirs))
    for a, b in zip(ours, theirs):
        assert rel_error(a.numpy(), b.numpy()) < 1e-5


def test_sgd_weight_decay_only_where_asked():
    w = [tf.Variable(np.ones(3)), tf.Variable(np.ones(3))]
    opt = L.SGD(w, momentum=0.0, weight_decay=0.5, decay=[True, False])
    opt.apply([tf.zeros(3, tf.float64), tf.zeros(3, tf.float64)], 0.1)
    assert np.allclose(w[0].numpy(), 1 - 0.1 * 0.5) and np.allclose(w[1].numpy(), 1.0)
    with pytest.raises(ValueError, match="flags"):
        L.SGD(w, decay=[True])
