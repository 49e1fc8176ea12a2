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
                  digits: int = 0) -> list[dict]:
    """Compare two dicts of gradients with the same keys; print and return one row per tensor.

    Each row: name, shape, max relative error, cosine similarity, norm ratio (manual/reference).
    ``digits`` > 0 prints the relative error as ``< 1e-k`` bands, so the printed table is
    identical across machines (for nbval output checking).
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
        print(format_grad_table(rows, title, digits))
    return rows


def _band(err: float, digits: int) -> str:
    for k in range(digits, 0, -1):
        if err < 10.0 ** -k:
            return f"< 1e-{k}"
    return f"{err:.1e}"


def format_grad_table(rows: list[dict], title: str = "", digits: int = 0) -> str:
    width = max([len(r["name"]) for r in rows] + [8])
    lines = [title] if title else []
    lines.append(f"{'tensor':<{width}}  {'shape':<18} {'max rel err':>11}  {'cosine':>8}  {'norm ratio':>10}")
    for r in rows:
        err = _band(r["rel_error"], digits) if digits else f"{r['rel_error']:.2e}"
        cos, ratio = (f"{r['cosine']:.6f}", f"{r['norm_ratio']:.6f}") if not digits else \
            (f"{r['cosine']:.4f}", f"{r['norm_ratio']:.4f}")
        lines.append(f"{r['name']:<{width}}  {str(r['shape']):<18} {err:>11}  {cos:>8}  {ratio:>10}")
    return "\n".join(lines)


def assert_grads_close(manual: dict, reference: dict, tol: float, title: str = "",
                       digits: int = 0) -> list[dict]:
    """``compare_grads`` and raise AssertionError, with the whole table, if any error > tol."""
    rows = compare_grads(manual, reference, title, show=True, digits=digits)
    bad = [r["name"] for r in rows if not r["rel_error"] <= tol]  # NaN counts as bad
    if bad:
        raise AssertionError(f"gradient check failed for {bad} (tolerance {tol:.0e}):\n"
                             + format_grad_table(rows, title))
    return rows
