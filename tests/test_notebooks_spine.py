"""Every paper chapter (nbs/1*.ipynb) and the template follow the fixed spine: these `##` headings, each once,
in this order, and no other `##` heading. A heading may add a subtitle after the spine name
(`## Assembly: the distillation task`); everything else is a `###` inside one of them."""
import json
import re

import pytest

from conftest import ROOT

SPINE = ("The paper in brief", "The method", "Components", "Assembly", "Experiments", "The gpu and full tiers",
         "GPU benchmark", "Results against the paper", "Deviations", "References")


def h2_headings(path):
    "The `##` headings of the markdown cells of a notebook, outside fenced code blocks."
    out = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        fenced = False
        for line in src.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and re.match(r"^##\s", line):
                out.append(line[2:].strip())
    return out


def spine_name(heading):
    "The spine entry a heading stands for (backticks and case ignored; a subtitle may follow), or None."
    plain = heading.replace("`", "").lower()
    for name in SPINE:
        if plain == name.lower() or re.match(re.escape(name.lower()) + r"\b", plain):
            return name
    return None


def check_spine(path):
    heads = h2_headings(path)
    names = [spine_name(h) for h in heads]
    stray = [h for h, n in zip(heads, names) if n is None]
    assert not stray, f"{path.name}: `##` headings outside the spine (make them `###`): {stray}"
    assert tuple(names) == SPINE, (f"{path.name}: the `##` headings must be, in order, {list(SPINE)}; "
                                   f"found {names}")


CHAPTERS = sorted((ROOT / "nbs").glob("1*.ipynb"))


def test_there_are_chapters():
    assert len(CHAPTERS) >= 4, CHAPTERS


@pytest.mark.parametrize("path", [*CHAPTERS, ROOT / "nbs" / "_template.ipynb"], ids=lambda p: p.name)
def test_spine(path):
    check_spine(path)


def test_spine_check_can_fail(tmp_path):
    def nb(*heads):
        p = tmp_path / "x.ipynb"
        cells = [dict(cell_type="markdown", source=f"## {h}\n\ntext", metadata={}) for h in heads]
        cells.append(dict(cell_type="markdown", source="```\n## not a heading (fenced)\n```", metadata={}))
        p.write_text(json.dumps(dict(cells=cells)))
        return p
    check_spine(nb(*SPINE[:3], "Assembly: the task", *SPINE[4:]))
    with pytest.raises(AssertionError, match="in order"):
        check_spine(nb(*SPINE[1:], SPINE[0]))                          # wrong order
    with pytest.raises(AssertionError, match="in order"):
        check_spine(nb(*SPINE[:-1]))                                   # one missing
    with pytest.raises(AssertionError, match="outside the spine"):
        check_spine(nb(*SPINE[:2], "Why relations", *SPINE[2:]))       # a stray `##`
    assert spine_name("The `gpu` and `full` tiers: the recipe") == "The gpu and full tiers"
    assert spine_name("Componentsish") is None
