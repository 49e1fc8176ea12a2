"""Every hand-written backward function is shown to matter: a copy of its notebook with that
function's output scaled by 1.001 fails under nbval (``tests/mutation_check.py``). Each mutant
costs up to a quick execution of its notebook, too much for every pytest run, so the verdicts of
the last run are committed in ``tests/mutation_table.json`` with each notebook's code hash and
the verdict of an unmutated copy (the control, which must pass); this test fails when a backward
function is missing from the table, was missed, or when the notebook or a helper it imports
changed since its mutation run.
"""
import json

import pytest

from mutation_check import TABLE, backward_functions, mutated_copy
from shared.nbguard import notebook_hash
from shared.runtime import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
RERUN = "rerun: python tests/mutation_check.py --all --table {}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_backward_is_caught_on_the_current_code(path):
    table = json.loads(TABLE.read_text()) if TABLE.is_file() else {}
    entry = table.get(path.stem)
    assert entry, f"{path.stem} has no mutation run; " + RERUN.format(path.stem[:2])
    assert entry["code_hash"] == notebook_hash(path.name), \
        f"{path.stem} or a helper it imports changed since its mutation run; " + \
        RERUN.format(path.stem[:2])
    assert entry.get("control") == "passed", \
        f"{path.stem}: the unmutated copy did not pass ({entry.get('control')})"
    missing = sorted(set(backward_functions(path)) - set(entry["functions"]))
    assert not missing, f"{path.stem}: never mutated: {missing}; " + RERUN.format(path.stem[:2])
    missed = {f: v for f, v in entry["functions"].items() if not v.startswith("caught by Cell")}
    assert not missed, f"{path.stem}: a 1.001 error in these goes unnoticed: {missed}"


def test_backward_functions_and_the_mutated_copy(tmp_path):
    cells = ["from shared import tf_layers as L\nfrom shared.layers_np import (dense_forward,\n"
             "    dense_backward)\n",
             "# NBVAL_CHECK_OUTPUT\nprint(code_hash('x.ipynb'))",
             "def net_backward(d):\n    return L.relu_backward(d, 1)\n\n"
             "def backward_vs_tape():\n    pass\n\n%time net_backward(1)"]
    nb = tmp_path / "99_x.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [c], "metadata": {},
                                         "outputs": []} for c in cells]}))
    assert backward_functions(nb) == ["L.relu_backward", "dense_backward", "net_backward"]
    out = tmp_path / "out"
    out.mkdir()
    copy = json.loads(mutated_copy(nb, "net_backward", out).read_text())["cells"]
    assert len(copy) == 4 and "net_backward = _mutated_net_backward" in copy[3]["source"]
    assert "NBVAL_CHECK_OUTPUT" not in copy[1]["source"]   # only errors count
