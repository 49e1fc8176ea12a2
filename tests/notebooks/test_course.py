"""The notebooks read as a course: each opens with what it assumes and what is new, then a
contents list whose links reach its sections; it stays short enough to read in one sitting
(at most 3,500 words of markdown); its code cells stay readable (60 lines, 100 characters a
line); it names itself once, in its start call; no function reads a global that changes and is
made in another section (it takes it as an argument); its exercises close it, before any appendix
of sections that run only at the full budget.
"""
import ast
import json
import re

import pytest

from shared.runtime import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_WORDS, MAX_CELL_LINES, MAX_LINE = 3500, 60, 100


def cells(path, kind=None):
    return [(c["cell_type"], "".join(c["source"])) for c in json.loads(path.read_text())["cells"]
            if kind is None or c["cell_type"] == kind]


def headings(path):
    return [line for kind, text in cells(path, "markdown") for line in text.splitlines()
            if re.match(r"#{1,3} ", line)]


def anchor(heading: str) -> str:
    # Jupyter's anchor for a heading: its text with spaces as hyphens
    return heading.lstrip("#").strip().replace(" ", "-")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opens_with_prerequisites_and_contents(path):
    (_, first), (_, contents) = cells(path)[:2]
    assert re.search(r"assum|prerequisite", first, re.I), "first cell: what it assumes"
    assert re.search(r"\bnew\b", first, re.I), "first cell: what is new"
    links = re.findall(r"\]\(#([^)]+)\)", contents)
    assert len(links) >= 4, "second cell: a contents list of links to the sections"
    targets = {anchor(h) for h in headings(path)}
    missing = [link for link in links if link not in targets]
    assert not missing, f"contents links without a section: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_short_enough_to_read(path):
    words = sum(len(text.split()) for _, text in cells(path, "markdown"))
    assert words <= MAX_WORDS, f"{words} markdown words (at most {MAX_WORDS})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_are_readable(path):
    for i, (_, text) in enumerate(cells(path, "code")):
        lines = text.splitlines()
        assert len(lines) <= MAX_CELL_LINES, f"code cell {i}: {len(lines)} lines"
        long = [line for line in lines if len(line) > MAX_LINE]
        assert not long, f"code cell {i}: a line of {len(long[0])} characters: {long[0][:60]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_names_itself_once_in_its_start_call(path):
    code = "\n".join(text for _, text in cells(path, "code"))
    assert code.count(path.stem) == 1 and re.search(rf"start\(\s*\"{path.stem}\"", code)
    assert not re.search(r"\bcheckpoint\s*=", code), "checkpointing follows the budget"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_close_the_notebook_before_any_appendix(path):
    tops = [h for h in headings(path) if h.startswith("## ")]
    names = [h[3:].strip() for h in tops]
    assert "Exercises" in names
    after = names[names.index("Exercises") + 1:]
    assert all(n.startswith("Appendix") for n in after), f"after the exercises: {after}"
    before = names[:names.index("Exercises")]
    assert not any(n.startswith("Appendix") for n in before)


MUTATORS = {"append", "extend", "update", "pop", "clear", "setdefault", "add", "insert", "remove",
            "popitem", "discard"}


def code_trees(path):
    """[(section number, parsed code cell)]: a section starts at each # or ## heading."""
    section, out = 0, []
    for kind, text in cells(path):
        if kind == "markdown":
            section += bool(re.search(r"^##? ", text, re.M))
        else:
            text = "\n".join(line for line in text.splitlines()
                             if not line.lstrip().startswith(("%", "!")))
            out.append((section, ast.parse(text)))
    return out


def changing_globals(trees) -> dict:
    """{name: section where it is made} of the top-level names bound more than once or changed
    in place (item or attribute assignment, a mutating method, ``global``) anywhere."""
    made, bindings, changed = {}, {}, set()
    for section, tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(t, ast.Name):
                        made.setdefault(t.id, section)
                        bindings[t.id] = bindings.get(t.id, 0) + 1
                        changed |= {t.id} if isinstance(node, ast.AugAssign) else set()
        for n in ast.walk(tree):
            if isinstance(n, (ast.Assign, ast.AugAssign)):
                changed |= {t.value.id for t in (n.targets if isinstance(n, ast.Assign)
                                                  else [n.target])
                            if isinstance(t, (ast.Subscript, ast.Attribute))
                            and isinstance(t.value, ast.Name)}
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                    and n.func.attr in MUTATORS and isinstance(n.func.value, ast.Name):
                changed.add(n.func.value.id)
            elif isinstance(n, ast.Global):
                changed.update(n.names)
    return {k: s for k, s in made.items() if bindings[k] > 1 or k in changed}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_function_reads_a_changing_global_of_another_section(path):
    trees = code_trees(path)
    changing, found = changing_globals(trees), set()
    for section, tree in trees:
        for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            own = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
            own |= {n.id for n in ast.walk(fn)
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            found |= {(fn.name, n.id) for n in ast.walk(fn)
                      if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                      and n.id not in own and changing.get(n.id, section) != section}
    assert not found, f"(function, global made in another section and changed): {sorted(found)}"
