"""Does a notebook notice a slightly wrong backward pass? Scale a function's output by 1 + 1e-3 and
run the notebook under nbval at the quick budget.

    python tests/mutation_check.py 02_multichannel_cnn_digits conv_backward maxpool_backward
    python tests/mutation_check.py --all --table      # every backward of every notebook

``--all`` takes every hand-written backward function a notebook defines or imports
(``backward_functions``); ``--table`` records each verdict, with the notebook's code hash, in
``tests/mutation_table.json``, which ``tests/notebooks/test_mutation_table.py`` checks covers
every backward function on the current code. A mutant's run stops at the first failing cell, so
a mutation caught early costs only the cells up to its check.

For each function name, a copy of the notebook, with no cell's output compared (only errors
count, as a reader would see them), gets one extra cell right after the cell that defines the
function (or imports it from ``shared``); it rebinds the name to a wrapper that
multiplies every array (or float) the function returns by 1.001. A dotted name such as
``L.elu_backward`` rebinds the attribute of the imported module ``L``, right after its import, so
that every later use in the notebook sees the wrapper. The copy then runs under nbval; the
mutation counts as caught when a cell raises (a failed assert). The name ``-`` runs an unmutated
copy, the control: it must pass. Not part of the pytest run: each function costs up to one quick
execution of the notebook.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FACTOR = 1 + 1e-3
TABLE = ROOT / "tests" / "mutation_table.json"
# a backward pass: ..._backward, or a readable/naive version of one (not a checker such as
# backward_vs_tape)
BACKWARD = r"\w*backward(_readable|_naive)?"

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


def backward_functions(notebook: Path) -> list[str]:
    """Every hand-written backward function the notebook defines, or imports from ``shared``
    (``name`` or ``module_alias.name``), as the names its code uses."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    names, aliases, code = set(), set(), []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "\n".join(line for line in "".join(cell["source"]).splitlines()
                        if not line.lstrip().startswith(("%", "!")))
        if src.startswith("# EXERCISE"):
            continue   # a reader's stub raises NotImplementedError: nothing to mutate
        code.append(src)
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef) and node.col_offset == 0:
                names.add(node.name)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shared"):
                for a in node.names:
                    if node.module == "shared":
                        aliases.add(a.asname or a.name)
                    else:
                        names.add(a.asname or a.name)
    text = "\n".join(code)
    for alias in aliases:
        names |= {f"{alias}.{n}" for n in re.findall(rf"\b{alias}\.(\w+)", text)}
    return sorted(n for n in names if re.fullmatch(BACKWARD, n.split(".")[-1]))


def _outputs_not_compared(cell: dict) -> None:
    # a catch must be an error a reader running the notebook would see (a failed assert), not a
    # difference from stored outputs; the inserted cell also changes the code hash by design
    cell["source"] = "".join(cell["source"]).replace("# NBVAL_CHECK_OUTPUT", "# (mutant)")


def mutated_copy(notebook: Path, name: str, folder: Path) -> Path:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            _outputs_not_compared(cell)
    if name == "-":
        out = folder / notebook.name
        out.write_text(json.dumps(nb, indent=1), encoding="utf-8")
        return out
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


def failed_cells(path: Path, first_only: bool = True) -> list[str]:
    env = dict(os.environ, BACKPROP_BUDGET="quick", MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         f"--nbval-sanitize-with={ROOT / 'tests' / 'nbval_sanitize.cfg'}", "-o", "addopts=",
         *(["-x"] if first_only else []), str(path)],
        cwd=path.parent, env=env, capture_output=True, text=True)
    # nbval numbers the code cells only
    return re.findall(r"^FAILED \S+::(Cell \d+)", run.stdout, re.M)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?",
                        help="name without .ipynb, e.g. 02_multichannel_cnn_digits")
    parser.add_argument("functions", nargs="*", help="names; '-' is the unmutated control")
    parser.add_argument("--all", action="store_true",
                        help="every notebook (or the one named), every backward function")
    parser.add_argument("--table", action="store_true", help=f"record verdicts in {TABLE.name}")
    args = parser.parse_args(argv)
    from shared.nbguard import notebook_hash
    if args.all:
        notebooks = sorted((ROOT / "notebooks").glob(f"{args.notebook or ''}*.ipynb"))
        jobs = [(nb, ["-", *backward_functions(nb)]) for nb in notebooks]
    else:
        if not args.notebook or not args.functions:
            parser.error("name a notebook and functions, or use --all")
        jobs = [(ROOT / "notebooks" / f"{args.notebook}.ipynb", args.functions)]
    table = json.loads(TABLE.read_text()) if args.table and TABLE.is_file() else {}
    missed = []
    for notebook, functions in jobs:
        verdicts, control = {}, None
        for name in functions:
            folder = Path(tempfile.mkdtemp(prefix="mutation-"))
            try:
                caught = failed_cells(mutated_copy(notebook, name, folder), first_only=name != "-")
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            if name == "-":
                control = f"FAILED {', '.join(caught)}" if caught else "passed"
                print(f"{notebook.stem} control, no mutation: {control}", flush=True)
                missed += [name] if caught else []
                continue
            verdicts[name] = f"caught by {', '.join(caught)}" if caught else "MISSED"
            print(f"{notebook.stem} {name} x {FACTOR}: {verdicts[name]}", flush=True)
            if not caught:
                missed.append(f"{notebook.stem}:{name}")
        if args.table:
            table[notebook.stem] = {"code_hash": notebook_hash(notebook.name), "factor": FACTOR,
                                    "control": control, "functions": verdicts}
            TABLE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
