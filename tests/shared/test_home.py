"""Where data, results and checkpoints go, and how the helpers find a notebook's file: in a
checkout as always, and installed alone (Colab: the package in site-packages, the notebook
perhaps nowhere on disk) in the working folder, without an exception."""
import json

import numpy as np
import pytest

import shared.checkpoint
from shared import data, nbguard, records, runtime
from shared.checkpoint import Checkpoint


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The helpers as if installed outside a checkout, run from an empty working folder."""
    monkeypatch.setattr(runtime, "IN_CHECKOUT", False)
    monkeypatch.setattr(runtime, "REPO_ROOT", tmp_path / "site-packages")
    for name in ("BACKPROP_HOME", "BACKPROP_DATA"):
        monkeypatch.delenv(name, raising=False)
    workdir = tmp_path / "content"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


def test_checkout_keeps_its_layout(monkeypatch):
    monkeypatch.delenv("BACKPROP_HOME", raising=False)
    monkeypatch.delenv("BACKPROP_DATA", raising=False)
    assert runtime.IN_CHECKOUT and runtime.home() == runtime.REPO_ROOT
    assert data.data_dir() == runtime.REPO_ROOT / "data"
    assert Checkpoint("a/b").path == runtime.REPO_ROOT / "checkpoints" / "a" / "b.npz"
    assert len(nbguard.code_hash("02_multichannel_cnn_digits.ipynb")) == 12


def test_installed_helpers_use_the_working_folder(installed, monkeypatch):
    assert runtime.home() == installed
    assert data.data_dir() == installed / "data"
    assert Checkpoint("a/b").path == installed / "checkpoints" / "a" / "b.npz"
    path = records.save_results("99_test", [], [], {"budget": "quick"})
    assert path == installed / "results" / "quick" / "99_test.json"
    monkeypatch.setenv("BACKPROP_DATA", str(installed / "elsewhere"))
    assert data.data_dir() == installed / "elsewhere"   # $BACKPROP_DATA still wins for data


def test_backprop_home_moves_all_three(installed, tmp_path, monkeypatch):
    drive = tmp_path / "drive"
    monkeypatch.setenv("BACKPROP_HOME", str(drive))
    assert data.data_dir() == drive / "data"
    assert Checkpoint("a").path == drive / "checkpoints" / "a.npz"
    assert records.save_results("99_test", [], [], {"budget": "full"}).parent == drive / "results"


def test_code_hash_finds_the_notebook_in_the_working_folder(installed):
    name = "02_multichannel_cnn_digits.ipynb"
    assert nbguard.code_hash(name).startswith("unavailable (") and "\n" not in \
        nbguard.code_hash(name)
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1"]},
                    {"cell_type": "markdown", "source": ["text"]}]}
    (installed / name).write_text(json.dumps(nb))
    digest = nbguard.code_hash(name)
    assert len(digest) == 12 and digest == nbguard.notebook_hash(name)
    (installed / name).write_text("{not json")
    assert nbguard.notebook_hash(name) is None   # a damaged copy: the guard steps aside


def test_checkpoints_without_the_notebook_use_the_commit(installed, monkeypatch, capsys):
    monkeypatch.setattr(runtime, "git_commit", lambda: "abc1234")
    monkeypatch.setattr(shared.checkpoint, "_keyed_by_commit", set())
    first = Checkpoint.for_run("02_multichannel_cnn_digits", "run a", "full", enabled=True)
    second = Checkpoint.for_run("02_multichannel_cnn_digits", "run b", "full", enabled=True)
    assert first.path.parent == installed / "checkpoints" / "02_multichannel_cnn_digits" / \
        "full-commit-abc1234" == second.path.parent
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "keyed by the helpers' commit (abc1234)" in out
    first.save_state(1, {"w": np.ones(2)})
    assert Checkpoint.for_run("02_multichannel_cnn_digits", "run a", "full", True).resume(
        {"w": np.zeros(2)}) == 2


def test_installed_commit_is_the_one_pip_recorded(installed, monkeypatch):
    class Dist:
        def __init__(self, text):
            self.text = text

        def read_text(self, name):
            return self.text if name == "direct_url.json" else None

    from importlib import metadata
    for text, commit in ((json.dumps({"url": "https://github.com/x/y", "vcs_info": {
            "vcs": "git", "commit_id": "0123456789abcdef"}}), "0123456"),
            (json.dumps({"url": "file:///tmp/w.whl", "archive_info": {}}), "unknown"),
            (None, "unknown"), ("[broken", "unknown")):
        monkeypatch.setattr(metadata, "distribution", lambda name, t=text: Dist(t))
        assert runtime.git_commit() == commit


def test_code_hash_covers_the_shared_modules_a_notebook_imports(tmp_path, monkeypatch):
    import shutil
    shared = tmp_path / "shared"
    shutil.copytree(nbguard.SHARED, shared, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(nbguard, "SHARED", shared)
    code = "import numpy as np\nfrom shared.records import History\n%matplotlib inline"
    names = [p.name for p in nbguard.shared_modules(code)]
    # records imports runtime, and data and nbguard when saving; data imports runtime
    assert {"__init__.py", "records.py", "runtime.py", "data.py"} <= set(names)
    assert "tf_layers.py" not in names
    nb = tmp_path / "99_x.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [code]}]}))
    before = nbguard.notebook_hash(str(nb))
    runtime_py = shared / "runtime.py"
    runtime_py.write_text(runtime_py.read_text().replace("BUDGETS = (", "BUDGETS  = (", 1))
    assert nbguard.notebook_hash(str(nb)) != before       # a helper's line changed
    runtime_py.write_text(runtime_py.read_text().replace("BUDGETS  = (", "BUDGETS = (", 1))
    assert nbguard.notebook_hash(str(nb)) == before
    layers = shared / "tf_layers.py"
    layers.write_text(layers.read_text() + "\n# a module this notebook does not import\n")
    assert nbguard.notebook_hash(str(nb)) == before
