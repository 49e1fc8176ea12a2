"""Solutions of notebook 04's exercises: a correct one and subtly wrong ones per exercise, each
wrong one with the tensor its check must name (tests/notebooks/test_exercises.py)."""

MEAN_POOL = '''# EXERCISE 1: mean pooling backward
def my_avgpool2x2_backward(dout, x_shape):
    quarter = np.asarray(dout) / {divisor}
    return np.repeat(np.repeat(quarter, 2, axis={axes[0]}), 2, axis={axes[1]}).reshape(x_shape)
'''

ELU = '''# EXERCISE 2: ELU backward, and the article's
def my_elu_backward(dout, out, article=False):
    out, dout = np.asarray(out), np.asarray(dout)
    positive = {positive}
    return dout * np.where(out > 0, positive, {negative})
'''

AMSGRAD = '''# EXERCISE 3: one AMSGrad step
def my_amsgrad_step(w, g, m, v, v_max, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    v_max = {v_max}
    alpha = {lr} * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return w - alpha * m / (np.sqrt(v_max) + epsilon), m, v, v_max
'''

SOLUTIONS = {
    1: {"correct": MEAN_POOL.format(divisor=4, axes=(1, 2)),
        "wrong": [(MEAN_POOL.format(divisor=1, axes=(1, 2)), "dx"),         # no 1/4 (the article)
                  (MEAN_POOL.format(divisor=4, axes=(2, 1)).replace(
                      "np.repeat(np.repeat(quarter, 2, axis=2), 2, axis=1)",
                      "np.repeat(quarter, 4, axis=1)"), "dx")]},              # copies down one axis
    2: {"correct": ELU.format(positive="2.0 if article else 1.0", negative="out + 1"),
        "wrong": [(ELU.format(positive="2.0 if article else 1.0", negative="np.exp(out)"), "dx"),
                  (ELU.format(positive="2.0 if article else 1.0",
                              negative="2.0 if article else out + 1"), "dx_article")]},
    3: {"correct": AMSGRAD.format(v_max="np.maximum(v_max, v)", lr="lr"),
        "wrong": [(AMSGRAD.format(v_max="v if v.sum() > v_max.sum() else v_max", lr="lr"),
                   "v_max"),                                               # whole-tensor maximum
                  (AMSGRAD.format(v_max="np.maximum(v_max, v)", lr="lr * (1 + 1e-3)"), "w")]},
}
