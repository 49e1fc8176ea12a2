"""Gradient checking: numerical gradients (central differences) and comparison tables.

Run checks in float64 on tiny, seeded inputs. Relative error uses the CS231n formula
``|a - b| / max(1e-8, |a| + |b|)``, taken element-wise and reported as the maximum.

Used in: 01, 02, 03, 04, 05.
"""
from __future__ import annotations

import numpy as np


def rel_error(a, b) -> float:
    """Maximum element-wise relative error between two arrays (0 for identical arrays)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def cosine_similarity(a, b) -> float:
    a, b = np.ravel(np.asarray(a, np.float64)), np.ravel(np.asarray(b, np.float64))
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom > 0 else float("nan")


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d f(x) / dx for a scalar function ``f`` by central differences; ``x`` is perturbed in place
    and restored."""
    if x.dtype != np.float64:
        raise TypeError("numerical gradients need float64 inputs")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_array(f, x: np.ndarray, dout: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` w.r.t. ``x``: a vector-Jacobian product for array ``f``."""
    return numerical_gradient(lambda z: np.sum(f(z) * dout), x, h)


def compare_grads(manual: dict, reference: dict, title: str = "", show: bool = True,
                  tol: float | None = None) -> list[dict]:
    """Compare two dicts of gradients with the same keys; print and return one row per tensor.

    Each row: name, shape, max relative error, cosine similarity, norm ratio (manual/reference).
    The table prints the error itself (``%.1e``) and, given ``tol``, the tolerance and the verdict;
    the cosine and norm-ratio columns appear only when some row is not 1.0000 in them.
    """
    missing = set(reference) ^ set(manual)
    if missing:
        raise KeyError(f"gradient names differ: {sorted(missing)}")
    rows = []
    for name in reference:
        m, r = np.asarray(manual[name], np.float64), np.asarray(reference[name], np.float64)
        r_norm = np.linalg.norm(r)
        rows.append({"name": name, "shape": tuple(r.shape), "rel_error": rel_error(m, r),
                     "cosine": cosine_similarity(m, r),
                     "norm_ratio": float(np.linalg.norm(m) / r_norm) if r_norm > 0 else float("nan")})
    if show:
        print(format_grad_table(rows, title, tol))
    return rows


def _informative(rows: list[dict]) -> bool:
    # cosine and norm ratio say something only when the gradients differ in direction or size
    return any(not (r["cosine"] >= 0.9999 and abs(r["norm_ratio"] - 1) <= 1e-4) for r in rows)


def format_grad_table(rows: list[dict], title: str = "", tol: float | None = None) -> str:
    width = max([len(r["name"]) for r in rows] + [8])
    extra = _informative(rows)
    head = f"{'tensor':<{width}}  {'shape':<18} {'max rel err':>11}"
    head += f"  {'tolerance':>9}  {'':4}" if tol is not None else ""
    head += f"  {'cosine':>8}  {'norm ratio':>10}" if extra else ""
    lines = ([title] if title else []) + [head.rstrip()]
    for r in rows:
        line = f"{r['name']:<{width}}  {str(r['shape']):<18} {r['rel_error']:>11.1e}"
        if tol is not None:
            verdict = "ok" if r["rel_error"] <= tol else "FAIL"   # NaN fails
            line += f"  {'≤ ' + format(tol, '.0e'):>9}  {verdict:4}"
        if extra:
            line += f"  {r['cosine']:>8.4f}  {r['norm_ratio']:>10.4f}"
        lines.append(line.rstrip())
    return "\n".join(lines)


def assert_grads_close(manual: dict, reference: dict, tol: float, title: str = "") -> list[dict]:
    """``compare_grads`` with ``tol``; raises AssertionError naming every tensor whose maximum
    relative error exceeds ``tol`` (NaN included)."""
    rows = compare_grads(manual, reference, title, show=True, tol=tol)
    bad = [f"{r['name']} ({r['rel_error']:.1e})" for r in rows if not r["rel_error"] <= tol]
    if bad:
        raise AssertionError(f"gradient check failed for {', '.join(bad)} (tolerance {tol:.0e}):\n"
                             + format_grad_table(rows, title, tol))
    return rows
