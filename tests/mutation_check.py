"""Does a notebook notice a slightly wrong backward pass? Scale a function's output by 1 + 1e-3 and
run the notebook under nbval at the quick budget.

    python tests/mutation_check.py 05_multichannel_cnn_digits conv_backward maxpool_backward

For each function name, a copy of the notebook gets one extra cell right after the cell that
defines the function (or imports it from ``shared``); it rebinds the name to a wrapper that
multiplies every array (or float) the function returns by 1.001. A dotted name such as
``L.elu_backward`` rebinds the attribute of the imported module ``L``, right after its import, so
that every later use in the notebook sees the wrapper. The copy then runs under nbval;
the mutation counts as caught when a cell other than the code-hash cell fails (the extra cell
changes the hash by design). The name ``-`` runs an unmutated copy, the control: it must pass.
Not part of the pytest run: each function costs one quick execution of the notebook.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACTOR = 1 + 1e-3

WRAPPER = '''\
def _scaled(value):
    if isinstance(value, (tuple, list)):
        return type(value)(_scaled(v) for v in value)
    if isinstance(value, dict):
        return {{k: _scaled(v) for k, v in value.items()}}
    if hasattr(value, "shape") or isinstance(value, float):
        return value * {factor!r}
    return value


_unmutated_{plain} = {name}


def _mutated_{plain}(*args, **kwargs):
    return _scaled(_unmutated_{plain}(*args, **kwargs))


{name} = _mutated_{plain}
'''


def mutated_copy(notebook: Path, name: str, folder: Path) -> Path:
    if name == "-":
        return Path(shutil.copy(notebook, folder / notebook.name))
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    defining = re.compile(rf"^def {re.escape(name)}\(", re.M)
    code = [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code"]
    if "." in name:  # module.function: right after the cell that imports the module
        module = re.escape(name.split(".")[0])
        importing = re.compile(rf"^(from \S+ )?import \S+ as {module}\b|^import {module}\b", re.M)
        where = [i for i, src in code if importing.search(src)][:1]
    else:
        where = [i for i, src in code if defining.search(src)]
    if not where:
        # a function imported from shared/: rebind the notebook's name right after the import
        importing = re.compile(rf"^(from|import) [^#]*\b{re.escape(name)}\b", re.M | re.S)
        where = [i for i, src in code if "import" in src and re.search(rf"\b{name}\b", src)
                 and importing.search(src)][:1]
    if not where:
        raise SystemExit(f"{notebook.name} neither defines nor imports a function {name!r}")
    cell = {"cell_type": "code", "execution_count": None, "id": "mutation", "metadata": {},
            "outputs": [], "source": WRAPPER.format(name=name, plain=name.replace(".", "_"),
                                               factor=FACTOR)}
    nb["cells"].insert(where[-1] + 1, cell)
    out = folder / notebook.name
    out.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return out


def failed_cells(path: Path) -> list[str]:
    env = dict(os.environ, BACKPROP_BUDGET="quick", MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         f"--nbval-sanitize-with={ROOT / 'tests' / 'nbval_sanitize.cfg'}", "-o", "addopts=",
         str(path)], cwd=path.parent, env=env, capture_output=True, text=True)
    failed = re.findall(r"^FAILED \S+::(Cell \d+)", run.stdout, re.M)
    # nbval numbers the code cells only
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    code_hash_cell = next(i for i, c in enumerate(code) if "code_hash(" in "".join(c["source"]))
    return [c for c in failed if c != f"Cell {code_hash_cell}"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="name without .ipynb, e.g. 05_multichannel_cnn_digits")
    parser.add_argument("functions", nargs="+")
    args = parser.parse_args(argv)
    notebook = ROOT / "notebooks" / f"{args.notebook}.ipynb"
    missed = []
    for name in args.functions:
        folder = Path(tempfile.mkdtemp(prefix="mutation-"))
        try:
            caught = failed_cells(mutated_copy(notebook, name, folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if name == "-":
            print("control, no mutation: " + (f"FAILED {', '.join(caught)}" if caught else "passed"))
            missed += [name] if caught else []
            continue
        print(f"{name} x {FACTOR}: " + (f"caught by {', '.join(caught)}" if caught else "MISSED"),
              flush=True)
        if not caught:
            missed.append(name)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
