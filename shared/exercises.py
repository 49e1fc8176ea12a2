"""Self-checking exercises: the reader's code against the notebook's reference, tensor by tensor.

An exercise is a stub the reader fills in (it raises ``NotImplementedError`` as committed) and a
check cell::

    check("ReLU backward", lambda: {"dx": my_relu_backward(dout, cache)}, {"dx": reference_dx})

``check`` calls the attempt; a stub still raising ``NotImplementedError`` prints that the
exercise is not attempted yet. Otherwise every tensor of the reference is compared in float64
(maximum relative error, as in the gradient checks) and printed; a missing tensor, a wrong shape
or an error above ``tolerance`` raises an ``AssertionError`` that names the tensor and the error.

Used in: 01, 02, 03, 04, 05.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from shared.gradcheck import rel_error


class ExerciseError(AssertionError):
    """The reader's answer differs from the reference; the message names the tensor."""


def check(name: str, attempt: Callable[[], dict], reference: dict,
          tolerance: float = 1e-7) -> bool | None:
    """Run ``attempt()`` -> {tensor name: array} and compare it with ``reference``.

    Returns None when not attempted, True when every tensor matches; raises ExerciseError else.
    """
    try:
        answer = attempt()
    except NotImplementedError:
        print(f"{name}: not attempted yet (fill in the stub above, then rerun this cell)")
        return None
    if not isinstance(answer, dict):
        raise ExerciseError(f"{name}: the answer should be a dict of tensors, got "
                            f"{type(answer).__name__}")
    wrong = []
    for key, want in reference.items():
        if key not in answer or answer[key] is None:
            wrong.append(f"{key} is missing")
            continue
        got, want = np.asarray(answer[key], np.float64), np.asarray(want, np.float64)
        if got.shape != want.shape:
            wrong.append(f"{key} has shape {got.shape}, the reference {want.shape}")
            continue
        err = rel_error(got, want)
        ok = err <= tolerance
        print(f"  {key:<12} max rel error {err:.1e}  {'ok' if ok else 'WRONG'}")
        if not ok:
            wrong.append(f"{key} is off by {err:.1e} (max rel error, tolerance {tolerance:.0e})")
    if wrong:
        raise ExerciseError(f"{name}: " + "; ".join(wrong))
    print(f"{name}: correct (every tensor within {tolerance:.0e})")
    return True
