"""Notebook 02's exercises, solved and subtly wrong (see tests/notebooks/test_exercises.py).

Each wrong solution is a mistake a learner could make; its check must fail naming the tensor.
"""

_EX1 = '''
# EXERCISE 1: the kernel gradient, one weight at a time
def conv_dw_by_weight(dout, x, w_shape, pad=1):
    kh, kw, c_in, c_out = w_shape
    x_pad = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    h_out, w_out = dout.shape[1:3]
    dw = np.zeros(w_shape)
    for p in range(kh):
        for q in range(kw):
            for c in range(c_in):
                for o in range(c_out):
                    # kernel entry (p, q) meets the input pixel p rows, q columns into each window
                    dw[p, q, c, o] = np.sum(x_pad[:, P:P + h_out, Q:Q + w_out, c] * dout[..., o])
    return dw * SCALE
'''


def _ex1(first="p", second="q", scale="1"):
    return _EX1.replace("P:P", f"{first}:{first}").replace("Q:Q", f"{second}:{second}") \
        .replace("SCALE", scale)


_EX2 = '''
# EXERCISE 2: max-pool backward at ties
def maxpool_backward_first_max(dout, x):
    n, h, w, c = x.shape
    dx = np.zeros(x.shape)
    for b in range(n):
        for i in range(h // 2):
            for j in range(w // 2):
                for ch in range(c):
                    window = x[b, 2 * i:2 * i + 2, 2 * j:2 * j + 2, ch]
                    WINNER
                    dx[b, 2 * i + r, 2 * j + s, ch] = dout[b, i, j, ch]
    return dx
'''
FIRST = "r, s = divmod(int(np.argmax(window)), 2)   # argmax: the first maximum"
LAST = "r, s = divmod(3 - int(np.argmax(window.ravel()[::-1])), 2)   # the last maximum"

# the article's mask: every input equal to its window's maximum gets the window's gradient
_EX2_EVERY_TIE = '''
# EXERCISE 2: max-pool backward at ties
def maxpool_backward_first_max(dout, x):
    up = lambda a: a.repeat(2, axis=1).repeat(2, axis=2)
    out = x.reshape(x.shape[0], x.shape[1] // 2, 2, x.shape[2] // 2, 2, -1).max(axis=(2, 4))
    return up(dout) * (x == up(out))
'''

_EX3 = '''
# EXERCISE 3: the article's broken max-pool backward as two switches
def article_maxpool_backward(dout, x, transpose_grad=False, transpose_mask=False):
    n, h, w, c = x.shape
    up = lambda a: a.repeat(2, axis=1).repeat(2, axis=2)
    T = lambda a: a.transpose(0, 2, 1, 3)
    out = x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
    mask = (x == up(out)).astype(np.float64)   # no ties: one 1 per window
    grad = T(dout) if transpose_grad else dout
    GRAD_AND_MASK
'''
RIGHT3 = "return up(grad) * (T(mask) if transpose_mask else mask)"
# transposing the product instead of the mask also transposes the gradient a second time
PRODUCT_TRANSPOSED = "return T(up(grad) * mask) if transpose_mask else up(grad) * mask"
# flipping the rows is not transposing
FLIPPED = ("grad = dout[:, ::-1] if transpose_grad else dout\n"
           "    return up(grad) * (T(mask) if transpose_mask else mask)")

SOLUTIONS = {
    1: {"correct": _ex1(),
        "wrong": [(_ex1("q", "p"), "dw"),                      # transposed kernel index
                  (_ex1(scale="(1 + 1e-3)"), "dw")]},           # off by 1e-3
    2: {"correct": _EX2.replace("WINNER", FIRST),
        "wrong": [(_EX2_EVERY_TIE, "dx"),                        # every tied input credited
                  (_EX2.replace("WINNER", LAST), "dx")]},        # the last maximum wins
    3: {"correct": _EX3.replace("GRAD_AND_MASK", RIGHT3),
        "wrong": [(_EX3.replace("GRAD_AND_MASK", PRODUCT_TRANSPOSED), "T-mask"),
                  (_EX3.replace("GRAD_AND_MASK", FLIPPED), "T-grad"),
                  (_EX3.replace("GRAD_AND_MASK", RIGHT3 + " * (1 + 1e-3)"), "correct")]},
}
