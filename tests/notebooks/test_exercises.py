"""Every notebook's exercises check themselves: as committed the check says "not attempted"; with
a correct solution in place of the stub it passes; with a subtly wrong one it fails, naming the
tensor that is wrong.

An exercise is two code cells: a stub whose first line is ``# EXERCISE k: <title>`` and a check
cell containing ``# CHECK k``. The check may use only what ``shared.nbload`` keeps of the notebook
(imports, functions, classes, constants) and what the stub defines: it runs here without data.
"""
import contextlib
import importlib
import io
import json
import re
from pathlib import Path

import pytest

from shared import nbload
from shared.exercises import ExerciseError

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def exercise_cells(path: Path) -> dict:
    """{k: (title, stub source, check source)} of one notebook."""
    stubs, checks = {}, {}
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        stub = re.match(r"# EXERCISE (\d+): (.+)", source)
        check = re.search(r"^# CHECK (\d+)\b", source, re.M)
        if stub:
            stubs[int(stub.group(1))] = (stub.group(2), source)
        elif check:
            checks[int(check.group(1))] = source
    assert stubs.keys() == checks.keys(), \
        f"{path.name}: stubs {sorted(stubs)}, checks {sorted(checks)}"
    return {k: (stubs[k][0], stubs[k][1], checks[k]) for k in stubs}


CASES = [(nb, k) for nb in NOTEBOOKS for k in exercise_cells(nb)]
_loaded = {}


def run(nb: Path, *sources) -> str:
    """Execute ``sources`` after the notebook's definitions; returns what they printed."""
    if nb.name not in _loaded:
        _loaded[nb.name] = nbload.load(nb.name)
    ns = dict(_loaded[nb.name])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for source in sources:
            exec(compile(source, f"<{nb.stem}>", "exec"), ns)
    return out.getvalue()


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_two_to_four_exercises(nb):
    assert 2 <= len(exercise_cells(nb)) <= 4


@pytest.mark.parametrize("nb,k", CASES, ids=[f"{nb.stem[:2]}-ex{k}" for nb, k in CASES])
def test_exercise_checks_itself(nb, k):
    title, stub, check = exercise_cells(nb)[k]
    solutions = importlib.import_module(f"exercises.nb{nb.stem[:2]}").SOLUTIONS[k]
    assert "not attempted" in run(nb, stub, check)
    assert "correct" in run(nb, solutions["correct"], check)
    assert solutions["wrong"], "each exercise needs at least one wrong solution"
    for source, tensor in solutions["wrong"]:
        with pytest.raises(ExerciseError, match=re.escape(tensor)):
            run(nb, source, check)
