"""Each notebook opened alone in Colab, run top to bottom as a Colab user runs it.

The helpers are built into a wheel and installed non-editable, without dependencies, into a
scratch site-packages, as the setup cell's ``pip install --no-deps git+...`` does; the recorded
install names a commit, as pip's does for a git URL. In the kernel a stand-in ``google.colab``
makes the setup cell take its Colab branch, its pip call is recorded instead of run, and the
checkout is hidden, so nothing can lean on the repository's layout. Each notebook is copied alone
into an empty folder (Colab's /content) and run there by nbval at the quick budget, which also
compares its checked outputs: this is how CI runs the notebooks, once each (pyproject's testpaths
leave ``notebooks/`` out). A full-budget run of notebook 02, shrunk with $BACKPROP_SETTINGS and
with no copy of the notebook on disk (as in Colab), must train past its first epoch and leave its
checkpoints in the working folder.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# the CIFAR-10 notebooks first: they take longest, and pytest's two workers (pyproject) take
# tests one at a time, so starting with the longest keeps both busy to the end
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"),
                   key=lambda p: ("load_cifar10" not in p.read_text(), p.name))
COMMIT = "c01ab0e5f00dfeedc0ffee000000000000000000"   # what the recorded install says it came from

SITECUSTOMIZE = '''\
"""Colab stand-in for the kernels of tests/notebooks/test_colab.py."""
import importlib.machinery, json, os, subprocess, sys, warnings

_log, _checkout = os.environ["COLAB_TEST_LOG"], os.environ["COLAB_TEST_HIDE"]
# Colab has no checkout: drop it from the path and drop the editable install's finders
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _checkout]
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path_importer_cache.clear()
import google.colab  # noqa: E402,F401  (Colab's kernel starts with it imported)


def _record(kind, value):
    with open(_log, "a") as f:
        f.write(json.dumps([kind, value]) + "\\n")


_show = warnings.showwarning


def _show_and_record(message, category, filename, lineno, file=None, line=None):
    # every warning that reaches a cell's output, with the file it is attributed to
    _record("warning", [category.__name__, str(message), filename])
    _show(message, category, filename, lineno, file, line)


warnings.showwarning = _show_and_record


_run = subprocess.run


def _run_without_pip(args, *more, **kwargs):
    if isinstance(args, (list, tuple)) and "pip" in args and "install" in args:
        _record("pip", [str(a) for a in args])
        return subprocess.CompletedProcess(args, 0)
    return _run(args, *more, **kwargs)


subprocess.run = _run_without_pip


class _WhereSharedComesFrom:
    # first on the meta path: records the file `import shared` gets, then lets the import go on
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "shared":
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            _record("shared", spec.origin if spec else None)
        return None


sys.meta_path.insert(0, _WhereSharedComesFrom)
'''


class Colab:
    """The scratch install and the Colab-like environment of one test session."""

    def __init__(self, root: Path):
        self.root = root
        self.site = root / "install" / "site-packages"
        fakes = root / "fakes"
        # no google/__init__.py: `google` stays a namespace package shared with protobuf
        (fakes / "google" / "colab").mkdir(parents=True)
        (fakes / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab."""\n')
        (fakes / "sitecustomize.py").write_text(SITECUSTOMIZE)
        self.pythonpath = os.pathsep.join([str(fakes), str(self.site)])
        self._install()
        self.before = self.snapshot()

    def _install(self):
        src, wheels = self.root / "src", self.root / "wheels"
        shutil.copytree(REPO / "shared", src / "shared",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(REPO / "pyproject.toml", src)
        pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
        # offline: the build uses the setuptools already installed, the install only the wheel
        subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "--no-index",
                              "-w", str(wheels), str(src)], check=True)
        subprocess.run(pip + ["install", "--no-deps", "--no-index", "--target", str(self.site),
                              *map(str, wheels.glob("*.whl"))], check=True)
        dist_info, = self.site.glob("backprop_by_hand-*.dist-info")
        (dist_info / "direct_url.json").write_text(json.dumps(
            {"url": "https://github.com/backprop-by-hand/backprop-by-hand",
             "vcs_info": {"vcs": "git", "commit_id": COMMIT}}))

    def snapshot(self) -> dict:
        """Every file of the install's folder (the site-packages and its parent), with its size."""
        return {p.relative_to(self.root).as_posix(): p.stat().st_size
                for p in (self.root / "install").rglob("*") if p.is_file()}

    def env(self, workdir: Path, budget: str = "quick", settings: dict | None = None) -> dict:
        # TF_ENABLE_ONEDNN_OPTS: the tests' conftest turns oneDNN off (bit-for-bit reruns); a
        # Colab kernel runs with TensorFlow's default, which the notebooks' import also keeps
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "MPLBACKEND", "BACKPROP_HOME", "BACKPROP_SETTINGS",
                            "TF_ENABLE_ONEDNN_OPTS")}
        env.update(PYTHONPATH=self.pythonpath, PYTHONDONTWRITEBYTECODE="1",
                   BACKPROP_BUDGET=budget, COLAB_TEST_HIDE=str(REPO),
                   COLAB_TEST_LOG=str(workdir.parent / f"{workdir.name}.log"),
                   # the installed data, so that nothing downloads
                   BACKPROP_DATA=os.environ.get("BACKPROP_DATA") or str(REPO / "data"))
        if settings:
            env["BACKPROP_SETTINGS"] = json.dumps(settings)
        return env

    def log(self, workdir: Path) -> list:
        path = workdir.parent / f"{workdir.name}.log"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() \
            else []

    def check_isolation(self, workdir: Path) -> list:
        """The kernel imported the installed helpers, wrote nothing beside them and printed no
        warning from our code (helpers or cells); returns the pip calls it made."""
        log = self.log(workdir)
        shared_from = [value for kind, value in log if kind == "shared"]
        assert shared_from and all(str(f).startswith(str(self.site)) for f in shared_from), \
            f"the kernel imported shared from {shared_from}, not from {self.site}"
        assert self.snapshot() == self.before, \
            "files were written beside the installed helpers: " + \
            ", ".join(sorted(set(self.snapshot()) ^ set(self.before)))
        ours = [w for kind, w in log if kind == "warning" and (
            w[2].startswith(str(self.site / "shared")) or "ipykernel_" in w[2])]
        assert not ours, f"warnings from the helpers or the notebook's cells: {ours}"
        return [value for kind, value in log if kind == "pip"]


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    return Colab(tmp_path_factory.mktemp("colab"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_notebook_runs_alone_in_colab(colab, tmp_path, notebook):
    workdir = tmp_path / "content"
    workdir.mkdir()
    shutil.copy(notebook, workdir)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--color=no", "-p", "no:cacheprovider",
         "-o", "addopts=", "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=900",
         f"--nbval-sanitize-with={REPO / 'tests' / 'nbval_sanitize.cfg'}", notebook.name],
        cwd=workdir, env=colab.env(workdir), capture_output=True, text=True)
    if run.returncode:
        raised, differ = (run.stdout.count(f"Cell {what}") for what in
                          ("execution caused an exception", "outputs differ"))
        pytest.fail(f"{notebook.name}, alone in a Colab-like folder, under nbval: {raised} cell(s) "
                    f"raised an exception, {differ} printed other output than the stored one\n\n"
                    f"{run.stdout[-8000:]}", pytrace=False)

    pip_calls = colab.check_isolation(workdir)
    assert len(pip_calls) == 1 and pip_calls[0][-1].startswith("git+https://github.com/"), \
        f"the setup cell should install the helpers from GitHub once: {pip_calls}"
    assert "--no-deps" in pip_calls[0]
    if notebook.stem.startswith("04"):
        assert "imgaug==0.4.0" in pip_calls[0]
    results = workdir / "results" / "quick" / f"{notebook.stem}.json"
    assert results.is_file(), f"no {results.relative_to(tmp_path)} in the working folder"
    assert json.loads(results.read_text())["commit"] == COMMIT[:7]


def test_full_budget_run_checkpoints_in_the_working_folder(colab, tmp_path):
    # 02 is NumPy only; its settings shrunk to one epoch and seed, the full budget's code path
    import nbformat
    from nbclient import NotebookClient

    name = "02_multichannel_cnn_digits"
    tiny = dict(seeds=1, epochs=1, article_epochs=1, tenclass_epochs=1, tenclass_seeds=1)
    workdir = tmp_path / "content"
    workdir.mkdir()
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)   # not copied there
    for cell in nb.cells:
        cell.pop("outputs", None)   # the stored run's; the cells after the stop keep none
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    checkpoints = workdir / "checkpoints" / name
    with client.setup_kernel(env=colab.env(workdir, "full", tiny)):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
            if list(checkpoints.rglob("*.npz")):
                break
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    files = sorted(checkpoints.rglob("*.npz"))
    assert files, f"no checkpoint in {checkpoints}; outputs:\n{text[-3000:]}"
    assert {f.parent.name for f in files} == {f"full-commit-{COMMIT[:7]}"}
    assert "budget: full" in text and "code hash: unavailable" in text
    assert text.count(f"keyed by the helpers' commit ({COMMIT[:7]})") == 1
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]

    from shared.checkpoint import Checkpoint
    assert all(Checkpoint(f).load()[0] == 1 for f in files)   # each after its first epoch
    assert [kind for kind, _ in colab.log(workdir)].count("pip") == 1
    colab.check_isolation(workdir)
