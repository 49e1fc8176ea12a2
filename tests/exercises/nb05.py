"""Solutions to notebook 05's exercises (see tests/exercises/__init__.py): a residual block's
backward with both shortcuts, and norm -> ReLU backward with the article's x + 1 layer as a
switch."""

BLOCK = '''
# EXERCISE 1: a residual block's backward
def my_block_backward(dout, cache, b, grads):
    p = b.name + "/"
    if b.pool:
        dout = L.avgpool2x2_backward(dout, cache["pool"])
    d_c, grads[p + "w2"] = L.conv2d_backward(dout, cache["conv2"])
    d_c = norm_relu_backward(d_c, cache["nr2"], p + "n2", grads)
    d_a, grads[p + "w1"] = L.conv2d_backward(d_c, cache["conv1"])
    if b.shortcut:
        d_proj, grads[p + "short"] = L.conv2d_backward(dout, cache["short"])
        d_a = PROJECTION
    if b.pre:
        d_a = norm_relu_backward(d_a, cache["nr1"], p + "n1", grads)
    return IDENTITY
'''


def block(projection="d_a + d_proj", identity="d_a if b.shortcut else d_a + dout"):
    return BLOCK.replace("PROJECTION", projection).replace("IDENTITY", identity)


NORM = '''
# EXERCISE 2: norm -> ReLU backward, real or the article's
def my_norm_relu_backward(dout, x, gamma, beta, kind):
    axes = [0, 1, 2]
    if kind == "article":
        dx = tf.where(MASK > 0, dout, tf.zeros_like(dout))
        return {"dx": dx, "dgamma": tf.zeros_like(gamma), "dbeta": tf.zeros_like(beta)}
    mean, var = tf.nn.moments(x, axes)
    inv_std = 1 / tf.sqrt(var + 1e-3)
    x_hat = (x - mean) * inv_std
    dn = tf.where(gamma * x_hat + beta > 0, dout, tf.zeros_like(dout))
    g = dn * gamma
    dx = SCALE * inv_std * (g - tf.reduce_mean(g, axes) - x_hat * TERM)
    return {"dx": dx, "dgamma": tf.reduce_sum(dn * x_hat, axes), "dbeta": tf.reduce_sum(dn, axes)}
'''


def norm(mask="x + 1", scale="1.0", term="tf.reduce_mean(g * x_hat, axes)"):
    return NORM.replace("MASK", mask).replace("SCALE", scale).replace("TERM", term)


SOLUTIONS = {
    1: {"correct": block(),
        "wrong": [(block(identity="d_a"), "ident: dh"),            # identity gradient dropped
                  (block(projection="d_a"), "proj: dh"),           # projection gradient dropped
                  (block(identity="(d_a if b.shortcut else d_a + dout) * 1.001"), "proj: dh")]},
    2: {"correct": norm(),
        "wrong": [(norm(scale="1.001"), "dx (batch)"),                  # off by 1e-3
                  (norm(term="0.0"), "dx (batch)"),                     # the x_hat term dropped
                  (norm(mask="x"), "dx (article)")]},                   # mask of x, not of x + 1
}
