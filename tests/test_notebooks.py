"""The notebooks as source: exported cells are short enough to read (prose between the parts of a long piece of
code, as miniai does), and every import inside a function says why it is there."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted((ROOT / "nbs").rglob("*.ipynb"))
MAX_LINES = 80
EXPORT = re.compile(r"^\s*#\|\s*export(s|i)?\b", re.M)
NOQA_LAZY = re.compile(r"#\s*noqa:\s*PLC0415\b(.*)$")


def exported_cells(nb: Path):
    "(index, source) of every cell of `nb` that nbdev exports."
    for i, c in enumerate(json.loads(nb.read_text())["cells"]):
        src = "".join(c["source"])
        if c["cell_type"] == "code" and EXPORT.search(src):
            yield i, src


def long_cells(nb: Path, limit: int = MAX_LINES) -> list[str]:
    "The exported cells of `nb` longer than `limit` lines, described for an error message."
    out = []
    for i, src in exported_cells(nb):
        lines = src.splitlines()
        if len(lines) > limit:
            out.append(f"{nb.name} cell {i}: {len(lines)} lines, starting {lines[1][:60] if len(lines) > 1 else ''!r}")
    return out


def test_notebooks_found():
    assert len(NBS) >= 9 and any(p.name == "00_core.ipynb" for p in NBS)


def test_long_cell_check_can_fail(tmp_path):
    "Only exported cells count, and only those over the limit."
    def cell(n, export=True):
        return dict(cell_type="code", metadata={}, outputs=[], execution_count=None,
                    source=("#| export\n" if export else "") + "\n".join(f"x{i} = {i}" for i in range(n)))
    nb = tmp_path / "x.ipynb"
    nb.write_text(json.dumps(dict(cells=[cell(MAX_LINES - 1), cell(MAX_LINES + 5), cell(200, export=False),
                                         dict(cell_type="markdown", metadata={}, source="#| export\n" * 200)])))
    bad = long_cells(nb)
    assert len(bad) == 1 and "cell 1: 86 lines" in bad[0], bad


@pytest.mark.parametrize("nb", NBS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_exported_cells_are_short(nb):
    "No exported cell is longer than 80 lines: split it, with a sentence of prose between the parts."
    bad = long_cells(nb)
    assert not bad, f"exported cells over {MAX_LINES} lines (split them, prose between the parts): {bad}"


@pytest.mark.parametrize("nb", NBS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_lazy_imports_give_a_reason(nb):
    "`# noqa: PLC0415` (an import inside a function) is followed by the reason, e.g. `- pandas only for tables`."
    bad = [f"cell {i}: {line.strip()}" for i, s in exported_cells(nb) for line in s.splitlines()
           if (m := NOQA_LAZY.search(line)) and len(m.group(1).strip(" -:—")) < 8]
    assert not bad, f"{nb.name}: imports inside functions without a reason after `# noqa: PLC0415`: {bad}"
