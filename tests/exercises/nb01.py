"""Solutions to notebook 01's exercises: one correct, and subtly wrong ones that the check must
catch, each with the tensor its error message has to name (tests/notebooks/test_exercises.py)."""

DENSE = '''
# EXERCISE 1: dense layer backward
def my_dense_backward(dout, x, w):
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
'''

SOFTMAX = '''
# EXERCISE 2: softmax cross-entropy gradient
def my_softmax_ce_backward(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    probs[np.arange(len(labels)), labels] -= 1
    return probs / len(labels)
'''

BLOCK = '''
# EXERCISE 3: identity residual block backward
def my_block_backward(dout, x, wa, ba, wb, bb):
    za = x @ wa + ba
    ha = np.maximum(za, 0)
    pre = x + ha @ wb + bb
    dpre = dout * (pre > 0)
    dha = dpre @ wb.T
    dza = dha * (za > 0)
    return {"dx": dpre + dza @ wa.T, "dWa": x.T @ dza, "dba": dza.sum(axis=0),
            "dWb": ha.T @ dpre, "dbb": dpre.sum(axis=0)}
'''

SOLUTIONS = {
    1: {"correct": DENSE,
        "wrong": [(DENSE.replace("dout @ w.T", "dout @ w"), "dx"),              # missing transpose
                  (DENSE.replace("x.T @ dout", "x.T @ dout * 1.001"), "dw"),     # off by 1e-3
                  (DENSE.replace("dout.sum(axis=0)", "dout.mean(axis=0)"), "db")]},  # extra 1/N
    2: {"correct": SOFTMAX,
        "wrong": [(SOFTMAX.replace("return probs / len(labels)", "return probs"),
                   "dlogits"),                                                   # missing 1/N
                  (SOFTMAX.replace("-= 1", "-= 1.001"), "dlogits")]},            # off by 1e-3
    3: {"correct": BLOCK,
        "wrong": [(BLOCK.replace('"dx": dpre + dza @ wa.T', '"dx": dza @ wa.T'),
                   "dx"),                                          # the shortcut's gradient lost
                  (BLOCK.replace('"dWb": ha.T @ dpre', '"dWb": za.T @ dpre'),
                   "dWb"),                                         # the ReLU before Wb forgotten
                  (BLOCK.replace("dpre @ wb.T", "dpre @ wb.T * 1.001"), "dx")]},  # off by 1e-3
}
