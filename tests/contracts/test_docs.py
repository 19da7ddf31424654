"""README.md and docs/ agree with results/, their links resolve, and the renderer rewrites only its blocks."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from experiments import render_docs

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_committed_docs_agree_with_results(capsys):
    assert render_docs.main(["--check"]) == 0, capsys.readouterr().err


def test_every_table_is_rendered_on_its_page():
    assert "\n<!-- results:glance -->\n" in (ROOT / "README.md").read_text()
    for t in render_docs.TABLES:
        assert f"\n<!-- results:table{t.number} -->\n" in (ROOT / "docs" / f"{t.page}.md").read_text(), t


def _prose(text: str) -> str:
    """The text outside fenced code blocks, where a link is a link."""
    return "".join(part for i, part in enumerate(re.split(r"^```.*$", text, flags=re.M)) if i % 2 == 0)


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", _prose(path.read_text()), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "data" / "README.md"], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_at_existing_files(doc):
    broken = []
    for target in LINK.findall(_prose(doc.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # a URL
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists() or (anchor and anchor not in _anchors(file)):
            broken.append(target)
    assert not broken, f"{doc.name}: {broken}"


@pytest.fixture
def tiny_repo(tmp_path):
    """A root with this repository's results files, a README with the glance block and one docs page."""
    for t in render_docs.TABLES:
        folder = tmp_path / "results" / f"table{t.number}"
        folder.mkdir(parents=True)
        for name in ("results.json", "table.md"):
            shutil.copy(ROOT / "results" / f"table{t.number}" / name, folder / name)
    (tmp_path / "README.md").write_text("# tiny\n\nbefore\n\n<!-- results:glance -->\n<!-- /results:glance -->\n\nafter\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("## Table 5\n\n<!-- results:table5 -->\nstale\n<!-- /results:table5 -->\n")
    return tmp_path


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_render_then_check_then_a_changed_number_fails_until_rendered(tiny_repo, capsys):
    root = ["--root", str(tiny_repo)]
    assert render_docs.main([*root, "--check"]) == 1  # the blocks start empty / stale
    assert render_docs.main(root) == 0
    assert render_docs.main([*root, "--check"]) == 0
    readme = (tiny_repo / "README.md").read_text()
    assert readme.startswith("# tiny\n\nbefore\n\n<!-- results:glance -->\n\n| script |")
    assert readme.endswith("|\n\n<!-- /results:glance -->\n\nafter\n")
    assert readme.count("\n| [`table") == 7
    page = (tiny_repo / "docs" / "page.md").read_text()
    assert "stale" not in page and "\n### Table 5 " in page and "\n#### Per trigger\n" in page
    assert "](../results/table5/figure8_mds.png)" in page  # the table's own link, seen from docs/
    assert "](../results/table5/table.md)" in page
    capsys.readouterr()

    _edit_json(tiny_repo / "results/table1/results.json", lambda d: d["test"].update(accuracy=0.5))
    assert render_docs.main([*root, "--check"]) == 1
    err = capsys.readouterr().err
    assert "README.md: block results:glance disagrees with results/" in err and "page.md" not in err
    assert (tiny_repo / "README.md").read_text() == readme  # --check changes nothing
    assert render_docs.main(root) == 0
    assert "| 50.0 % test accuracy; Figure 5 matched" in (tiny_repo / "README.md").read_text()
    assert render_docs.main([*root, "--check"]) == 0

    table_md = tiny_repo / "results/table5/table.md"
    table_md.write_text(table_md.read_text().replace("| 5.627 |", "| 9.999 |"))
    assert render_docs.main([*root, "--check"]) == 1
    assert "docs/page.md: block results:table5 disagrees" in capsys.readouterr().err


def test_glance_rows_are_computed_from_results_json(tiny_repo):
    def timbre(d):
        d["scores"]["Glass (input)"] = dict.fromkeys(d["scores"]["Glass (input)"], 10.0)
        d["scores"]["Wood (input)"] = dict.fromkeys(d["scores"]["Wood (input)"], 20.0)
        d["scores"]["VAE blend"] = {**dict.fromkeys(d["scores"]["VAE blend"], 15.0), "depth": 25.0, "warmth": 5.0}

    def nll(d):
        for trigger, row in d["wavenet"]["conditioned"].items():
            row["nll_bits"] = d["wavenet"]["per_trigger"][trigger]["nll_bits"] + (1 if trigger == "tapping/glass" else -1)

    _edit_json(tiny_repo / "results/table3/results.json", timbre)
    _edit_json(tiny_repo / "results/table5/results.json", nll)
    _edit_json(tiny_repo / "results/table2/results.json", lambda d: d["results"]["cnn2d"].update(accuracy=[0.2, 0.4]))
    _edit_json(tiny_repo / "results/table7/results.json", lambda d: d["results"]["int8"].update(bytes=4_321_000))
    assert render_docs.main(["--root", str(tiny_repo)]) == 0
    readme = (tiny_repo / "README.md").read_text()
    assert "VAE blend between its inputs on 5 of 7 attributes (hardness, brightness, roughness, sharpness, boominess)" in readme
    assert "WaveNet: conditioned model's held-out NLL lower on 6 of 7 triggers" in readme
    assert ", (b) 30.0, " in readme
    assert "| int8 4.32 MB, mAP " in readme


@pytest.mark.parametrize("case, message", [
    ("missing", "render_docs: results/table3/results.json: missing; run `python experiments/table3.py` to write it"),
    ("not json", "render_docs: results/table3/results.json: not valid JSON"),
    ("not an object", "render_docs: results/table3/results.json: not a JSON object"),
    ("no key", "render_docs: results/table3/results.json: the glance row of table3 cannot read it (KeyError 'scores')"),
    ("unclosed", "render_docs: docs/page.md: <!-- results:table5 --> has no closing <!-- /results:table5 -->"),
    ("stray", "render_docs: docs/page.md: <!-- /results:table6 --> closes no open block"),
    ("unknown", "render_docs: docs/page.md: unknown block results:table9 (known: glance, table1,"),
])
def test_bad_input_is_one_line_and_writes_nothing(tiny_repo, capsys, case, message):
    results, page = tiny_repo / "results/table3/results.json", tiny_repo / "docs/page.md"
    if case == "missing":
        results.unlink()
    elif case == "not json":
        results.write_text("{")
    elif case == "not an object":
        results.write_text("[]")
    elif case == "no key":
        _edit_json(results, lambda d: d.pop("scores"))
    elif case == "unclosed":
        page.write_text("<!-- results:table5 -->\n")
    elif case == "stray":
        page.write_text("<!-- results:table5 -->\n<!-- /results:table5 -->\n<!-- /results:table6 -->\n")
    else:
        page.write_text("<!-- results:table9 -->\n<!-- /results:table9 -->\n")
    before = {p: p.read_text() for p in (tiny_repo / "README.md", page)}
    assert render_docs.main(["--root", str(tiny_repo)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert {p: p.read_text() for p in before} == before
