"""Wall time of a CI run: `.ci/run` on a fresh clone of this repository's HEAD, as CI runs it
after each session (a new venv, the pinned install, the offline data, then the README's test
command at the quick budget). CI stops a run at 90 minutes; the project keeps it under 30.

    python benchmarks/bench_ci.py          # clone HEAD into a temporary folder, run .ci/run there
    python benchmarks/bench_ci.py --tiny   # clone, and only collect the clone's tests (seconds)

The clone sits in a temporary folder beside a link named `shared` to the folder beside this
checkout (the offline datasets), the layout CI gives it. Only committed work is in the clone:
commit first. The exit status is `.ci/run`'s, so a red CI is not mistaken for a measurement.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from shared.runtime import git_commit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def fresh_clone(workdir: Path) -> Path:
    """Clone HEAD into ``workdir/main``, with ``workdir/shared`` linking to the shared folder."""
    clone = workdir / "main"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        (workdir / "shared").symlink_to(beside)
    return clone


def parse_ci_output(text: str) -> dict:
    """The numbers `.ci/run` and pytest print: setup and total seconds, the pytest summary."""
    found = {}
    for key, pattern in (("setup_s", r"setup took (\d+) s"), ("total_s", r"CI took (\d+) s")):
        match = re.search(pattern, text)
        if match:
            found[key] = int(match.group(1))
    summary = re.findall(r"^=*\s*(\d+ (?:passed|failed|error).*?) in ([\d.]+)s", text, re.M)
    if summary:
        found["summary"], found["pytest_s"] = summary[-1][0], float(summary[-1][1])
    return found


def minutes(seconds) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min ({seconds:.0f} s)"


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--tiny", action="store_true")
    a = p.parse_args(argv)
    commit = git_commit()  # "<hash>" or "<hash>+dirty", as in the notebooks' headers
    dirty = commit.endswith("+dirty")
    commit = commit.removesuffix("+dirty")
    with tempfile.TemporaryDirectory(prefix="bench_ci_") as tmp:
        clone = fresh_clone(Path(tmp))
        env = {**os.environ, "CI": "true"}
        if a.tiny:
            # the clone's test suite, collected but not run, with this interpreter
            command = [sys.executable, "-m", "pytest", "-q", "--collect-only"]
            env["BACKPROP_BUDGET"] = "quick"
        else:
            command = ["bash", ".ci/run"]
        print(f"running {' '.join(command[-2:])} in a fresh clone of {commit}", flush=True)
        start = time.perf_counter()
        out = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
    text = out.stdout + out.stderr
    status = "passed" if out.returncode == 0 else f"FAILED (exit {out.returncode})"
    note = " (HEAD only: the working tree had uncommitted changes)" if dirty else ""
    if a.tiny:
        collected = re.search(r"(\d+) tests? collected", text)
        rows = [["tests collected (not run)", collected.group(1) if collected else "—"],
                ["collection", f"{wall:.0f} s, {status}"]]
    else:
        found = parse_ci_output(text)
        rows = [["setup: venv, `pip install -r requirements.txt`, offline data",
                 minutes(found.get("setup_s"))],
                ["`pytest -q` (quick budget)", minutes(found.get("pytest_s"))],
                ["pytest's summary", found.get("summary", "—")],
                ["whole `.ci/run`", f"{minutes(wall)}, {status}"]]
    body = (f"`.ci/run` on a fresh clone of commit `{commit}`{note}, as CI runs it, one run, "
            "machine otherwise idle. Target: under 30 minutes (CI's limit is 90).\n\n"
            + common.table(["part", "wall time"], rows))
    common.write_section("ci", "CI run", body, a.tiny)
    if out.returncode != 0:
        print(text[-5000:], file=sys.stderr)
    return out.returncode


if __name__ == "__main__":
    sys.exit(main())
