"""Solutions to notebook 03's exercises, for tests/notebooks/test_exercises.py: a correct one
and subtly wrong ones, each with the tensor name its failure message must contain."""

BN_CORRECT = '''# EXERCISE 1: batch norm backward
def my_batchnorm_backward(dout, x, gamma, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    x_hat = (x - mean) / np.sqrt(var + eps)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    g = dout * gamma
    dx = (g - g.mean(axis=axes) - x_hat * (g * x_hat).mean(axis=axes)) / np.sqrt(var + eps)
    return dx, dgamma, dbeta
'''

SMOOTH_CORRECT = '''# EXERCISE 2: label smoothing's gradient
def my_smoothed_dlogits(logits, labels, smoothing):
    n, k = logits.shape
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    target = np.full((n, k), smoothing / k)
    target[np.arange(n), labels] += 1 - smoothing
    return (p - target) / n
'''

SCHEDULE_CORRECT = '''# EXERCISE 3: the warm-up/decay schedule
def my_schedule(peak, total_steps, warmup):
    warmup_steps = max(1, int(warmup * total_steps))
    step = np.arange(total_steps)
    return peak * np.minimum((step + 1) / warmup_steps,
                             (total_steps - step) / (total_steps - warmup_steps))
'''

SOLUTIONS = {
    1: {"correct": BN_CORRECT,
        "wrong": [
            # the mean of the gradient is not removed
            (BN_CORRECT.replace("g - g.mean(axis=axes) - ", "g - "), "dx"),
            # the variance's epsilon forgotten: off by about 1e-3
            (BN_CORRECT.replace("np.sqrt(var + eps)", "np.sqrt(var)"), "dx"),
            # statistics over the batch axis only, not over the positions too
            (BN_CORRECT.replace("g.mean(axis=axes)", "g.mean(axis=0)"), "dx"),
        ]},
    2: {"correct": SMOOTH_CORRECT,
        "wrong": [
            # smoothing spread over the K - 1 wrong classes only
            (SMOOTH_CORRECT.replace("np.full((n, k), smoothing / k)",
                                    "np.full((n, k), smoothing / (k - 1))")
             .replace("+= 1 - smoothing", "= 1 - smoothing"), "dlogits"),
            # the batch mean's 1/N forgotten
            (SMOOTH_CORRECT.replace("return (p - target) / n", "return p - target"), "dlogits"),
        ]},
    3: {"correct": SCHEDULE_CORRECT,
        "wrong": [
            # warm-up counted from step 0, so the first step size is 0
            (SCHEDULE_CORRECT.replace("(step + 1) / warmup_steps", "step / warmup_steps"),
             "rates"),
            # the decay reaches zero at the last step instead of one step later
            (SCHEDULE_CORRECT.replace("(total_steps - step) / (total_steps - warmup_steps)",
                                      "(total_steps - 1 - step) / (total_steps - warmup_steps)"),
             "rates"),
        ]},
}
