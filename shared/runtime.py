"""Run budgets, seeding, the run header and TensorFlow set-up.

Every notebook declares its settings once, per budget::

    SETTINGS = {
        "quick":   dict(train_images=512,  epochs=2),
        "default": dict(train_images=5000, epochs=20),
        "full":    dict(train_images=50000, epochs=100),
    }
    cfg = choose_settings(SETTINGS)        # picks the row for $BACKPROP_BUDGET

The budget changes data size and epochs, never the model or the code path.
``$BACKPROP_SETTINGS='{"epochs": 1}'`` overrides values of the chosen row (a tiny run, same path).

``home()`` decides where data, results and checkpoints go. Used in: every notebook.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

BUDGETS = ("quick", "default", "full")
BUDGET_ENV = "BACKPROP_BUDGET"
SETTINGS_ENV = "BACKPROP_SETTINGS"
HOME_ENV = "BACKPROP_HOME"
REPO_ROOT = Path(__file__).resolve().parent.parent
# in a checkout the notebooks sit beside the package; installed (Colab), the parent is site-packages
IN_CHECKOUT = (REPO_ROOT / "notebooks").is_dir() and (REPO_ROOT / "pyproject.toml").is_file()


class ConfigError(ValueError):
    """A configuration mistake the user can fix (bad budget, missing setting, no GPU)."""


def current_budget() -> str:
    """The budget named by $BACKPROP_BUDGET (default ``default``); anything else is an error."""
    budget = os.environ.get(BUDGET_ENV, "default").strip().lower() or "default"
    if budget not in BUDGETS:
        raise ConfigError(
            f"{BUDGET_ENV}={os.environ.get(BUDGET_ENV)!r} is not a budget; "
            f"choose one of {', '.join(BUDGETS)}.")
    return budget


def choose_settings(settings: dict, budget: str | None = None) -> dict:
    """Return ``settings[budget]`` (plus ``budget``) after checking every budget has the same keys.

    A notebook whose ``full`` row lacks a key that ``quick`` has would silently change the code
    path between budgets; this refuses that with one clear line.
    """
    budget = budget or current_budget()
    missing_rows = [b for b in BUDGETS if b not in settings]
    if missing_rows:
        raise ConfigError(f"settings have no row for budget(s) {', '.join(missing_rows)}")
    all_keys = set().union(*(settings[b].keys() for b in BUDGETS))
    for b in BUDGETS:
        missing = sorted(all_keys - set(settings[b]))
        if missing:
            raise ConfigError(f"budget {b!r} is missing setting(s) {', '.join(missing)}")
    return {**settings[budget], **_overrides(all_keys), "budget": budget}


def _overrides(keys: set) -> dict:
    text = os.environ.get(SETTINGS_ENV, "").strip()
    try:
        values = json.loads(text) if text else {}
    except ValueError:
        values = None
    if not isinstance(values, dict):
        raise ConfigError(f"{SETTINGS_ENV}={text!r} is not a JSON object such as {{\"epochs\": 1}}")
    unknown = sorted(set(values) - keys)
    if unknown:
        raise ConfigError(f"{SETTINGS_ENV} names setting(s) this notebook does not have: "
                          f"{', '.join(unknown)}; it has {', '.join(sorted(keys))}")
    return values


def home() -> Path:
    """The folder that holds ``data/``, ``results/`` and ``checkpoints/``: ``$BACKPROP_HOME`` when
    set (a mounted Drive survives a recycled Colab runtime); else the repository in a checkout;
    else the working folder, which a notebook opened alone (Colab: /content) shows in its file
    browser. Installed helpers never write beside themselves, where no one would look."""
    if os.environ.get(HOME_ENV, "").strip():
        return Path(os.environ[HOME_ENV].strip()).expanduser()
    return REPO_ROOT if IN_CHECKOUT else Path.cwd()


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy, TensorFlow (if imported) and imgaug (if imported).

    On the CPU, also turns on TensorFlow op determinism so that a rerun on the same machine gives
    the same losses (bit for bit with ``TF_ENABLE_ONEDNN_OPTS=0``; see ``import_tensorflow``).
    Returns a fresh ``np.random.Generator`` to pass explicitly to code.
    """
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "tensorflow" in sys.modules:
        import tensorflow as tf
        tf.keras.utils.set_random_seed(seed)
        _request_determinism(tf)
    if "imgaug" in sys.modules:
        sys.modules["imgaug"].seed(seed)
    return np.random.default_rng(seed)


_determinism_note_shown = False


def _request_determinism(tf) -> None:
    """Op determinism on the CPU only: on a GPU, an op without a deterministic kernel would raise
    in the middle of training. Where it is not requested or fails, one line says so, once."""
    global _determinism_note_shown
    if tf.config.list_physical_devices("GPU"):
        note = ("GPU: TensorFlow op determinism not requested (some GPU ops have no "
                "deterministic kernel); reruns may differ in the last digits")
    else:
        try:
            tf.config.experimental.enable_op_determinism()
            return
        except Exception as err:  # any failure here only costs bit-for-bit reruns
            note = (f"TensorFlow op determinism unavailable ({type(err).__name__}: {err}); "
                    "reruns may differ in the last digits")
    if not _determinism_note_shown:
        _determinism_note_shown = True
        print(note)


def git_commit() -> str:
    """The checkout's commit (``+dirty`` with uncommitted changes); installed helpers (Colab's
    ``pip install git+...``) report the commit pip recorded; ``unknown`` when neither says."""
    if not IN_CHECKOUT:
        return _installed_commit()
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=5)
        commit = out.stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=5)
        return commit + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _installed_commit() -> str:
    from importlib import metadata
    try:
        text = metadata.distribution("backprop-by-hand").read_text("direct_url.json") or "{}"
        commit = json.loads(text).get("vcs_info", {}).get("commit_id")
    except (metadata.PackageNotFoundError, ValueError, AttributeError):
        commit = None
    return str(commit)[:7] if commit else "unknown"


def cpu_name(cpuinfo: str | None = None) -> str:
    """The CPU's model name with its family, model and widest vector instructions, e.g.
    ``AMD EPYC (family 26, model 2, AVX-512)``: cloud CPUs often report only a brand name, which
    is not enough to tell timings apart. ``cpuinfo``: the text of /proc/cpuinfo (read if None)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = (part.strip() for part in line.partition(":"))
        if key and key not in fields:  # the first processor's
            fields[key] = value
    flags = set(fields.get("flags", "").split())
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    details = [f"family {fields['cpu family']}" if "cpu family" in fields else None,
               f"model {fields['model']}" if "model" in fields else None, vector]
    details = [d for d in details if d]
    return fields["model name"] + (f" ({', '.join(details)})" if details else "")


def hardware() -> dict:
    """CPU model and core count, and the GPUs TensorFlow sees (only if TF is already imported)."""
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "gpu": "none"}
    if "tensorflow" in sys.modules:
        import tensorflow as tf
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            info["gpu"] = ", ".join(g.name for g in gpus)
    return info


def versions() -> dict:
    """Python and NumPy versions; TensorFlow's and its oneDNN setting if TF is imported, since
    results on a CPU depend on both (see ``import_tensorflow``)."""
    v = {"python": platform.python_version(), "numpy": np.__version__}
    if "tensorflow" in sys.modules:
        v["tensorflow"] = sys.modules["tensorflow"].__version__
        v["oneDNN"] = onednn_setting()
    return v


def onednn_setting() -> str:
    """'on' or 'off' as TF_ENABLE_ONEDNN_OPTS says, or 'TF default' when it is unset (then
    TensorFlow decides by CPU: on where it finds neural-network instructions such as AVX-512 VNNI
    or BF16, off on older CPUs)."""
    value = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    if value is None:
        return "TF default"
    return "off" if value.strip().lower() in ("0", "false") else "on"


def run_header(notebook: str, seed: int, settings: dict, data: str | None = None) -> dict:
    """Print what this run is: notebook, budget, settings, seed, hardware, versions, commit and,
    with ``data`` (``cifar10``, ``mnist`` or ``digits``), which copy of the dataset is on disk.

    Returns the same facts as a dict, for ``records.save_results``.
    """
    info = {"notebook": notebook, "budget": settings["budget"],
            "seed": seed, "settings": {k: v for k, v in settings.items() if k != "budget"},
            "hardware": hardware(), "versions": versions(), "commit": git_commit()}
    if data is not None:
        from shared.data import describe  # shared.data imports this module
        info["data"] = describe(data)
    hw = info["hardware"]
    print(f"{notebook} | budget: {info['budget']} | seed: {seed}")
    print("settings: " + ", ".join(f"{k}={v}" for k, v in info["settings"].items()))
    print(f"hardware: {hw['cpu']}, {hw['cores']} cores, GPU: {hw['gpu']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
          + f" | commit {info['commit']}")
    if data is not None:
        found = info["data"]
        print(f"data: {found['dataset']}, {found['copy']}: {found['note']}")
    return info


@contextlib.contextmanager
def _native_stderr_silenced():
    """Point file descriptor 2 at /dev/null for the duration (C++ logging writes there)."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow(require_gpu: bool | None = None):
    """Import TensorFlow with the project's settings, which must be set before the import.

    - ``TF_ENABLE_ONEDNN_OPTS=1`` if unset: oneDNN's faster CPU kernels; ``0`` repeats runs exactly.
    - ``TF_CPP_MIN_LOG_LEVEL=3``: keep C++ start-up chatter out of notebook outputs.

    ``require_gpu`` (default: $BACKPROP_REQUIRE_GPU == "1") raises a ConfigError when no GPU is
    visible, instead of silently training a full-budget run on the CPU for days.
    """
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _native_stderr_silenced():
        # TF's C++ start-up notices ("oneDNN custom operations are on", printed at import and at
        # the first device set-up) ignore TF_CPP_MIN_LOG_LEVEL; Python errors still surface.
        import tensorflow as tf
        tf.config.list_logical_devices()
    tf.get_logger().setLevel("ERROR")
    if require_gpu is None:
        require_gpu = os.environ.get("BACKPROP_REQUIRE_GPU", "") == "1"
    if require_gpu and not tf.config.list_physical_devices("GPU"):
        raise ConfigError("a GPU was requested (BACKPROP_REQUIRE_GPU=1) but TensorFlow sees none; "
                          "unset BACKPROP_REQUIRE_GPU to run on the CPU.")
    return tf
