"""Dataset indexes and label files: every problem is one `error: PATH:LINE: what is wrong` line, exit 2."""

from __future__ import annotations

import shutil

import pytest

from audioprep.__main__ import main as audioprep
from audioprep.datasets import FSD50K_TRUTH, read_commonvoice, read_fsd50k
from audioprep.errors import BadFileError
from audioprep.tables import read_lines, read_rows


def test_rows_carry_their_line_and_blank_lines_are_skipped(tmp_path):
    table = tmp_path / "t.csv"
    table.write_bytes("\ufeffname,count\nfirst,1\n\n\"two\nlines\",2\nlast,x\n".encode())
    rows = list(read_rows(table, required=("name",)))
    assert [(r.line, r["name"]) for r in rows] == [(2, "first"), (5, "two\nlines"), (6, "last")]
    assert rows[0].integer("count") == 1
    with pytest.raises(BadFileError, match=f"^{table}:6: count 'x' is not an integer$"):
        rows[2].integer("count")


@pytest.mark.parametrize(("content", "line", "says"), [
    (b"", 1, "empty file, expected a header line"),
    (b"fname,split\n1,train\n", 1, "no 'labels' column (columns: fname, split)"),
    (b"fname,labels\n1,Rain\n2\n", 3, "1 of 2 fields, no value for 'labels'"),
    (b"fname,labels\n1,Rain\n2,\n", 3, "no value for 'labels'"),
    (b"fname,labels\n1,Rain\n2,Caf\xe9\n", 3, "not UTF-8 text (byte 6 of the line is 0xe9)"),
    (b"fname,labels\n1,\"Rain\n", 2, "not a valid CSV line (unexpected end of data)"),
])
def test_each_problem_names_the_file_and_line(tmp_path, content, line, says):
    table = tmp_path / "dev.csv"
    table.write_bytes(content)
    with pytest.raises(BadFileError) as err:
        list(read_rows(table, required=("fname", "labels")))
    assert str(err.value) == f"{table}:{line}: {says}"


def test_a_label_file_names_its_bad_line(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_bytes(b"Knock\nRain\n")
    assert read_lines(labels) == ["Knock", "Rain"]
    labels.write_bytes(b"Knock\nR\xffain\n")
    with pytest.raises(BadFileError, match=f"^{labels}:2: not UTF-8 text"):
        read_lines(labels)


@pytest.fixture()
def fsd50k(small_layout, tmp_path):
    root = tmp_path / "fsd50k"
    shutil.copytree(small_layout("fsd50k"), root)
    return root


def test_fsd50k_index_problems_stop_inspect_with_one_line(fsd50k, capsys):
    capsys.readouterr()  # the corpus generator's progress
    truth = fsd50k / FSD50K_TRUTH
    vocabulary = (truth / "vocabulary.csv").read_text(encoding="utf-8").splitlines()
    examples, names = read_fsd50k(fsd50k)
    assert names and examples
    cases = [
        ("vocabulary.csv", "\n".join([vocabulary[0], "one," + vocabulary[1].split(",", 1)[1], *vocabulary[2:]]) + "\n",
         2, "index 'one' is not an integer"),
        ("dev.csv", (truth / "dev.csv").read_text(encoding="utf-8").replace(names[0], "Not_a_label", 1),
         None, "label 'Not_a_label' is not in FSD50K.ground_truth/vocabulary.csv"),
    ]
    for name, text, line, says in cases:
        good = (truth / name).read_bytes()
        (truth / name).write_text(text, encoding="utf-8")
        assert audioprep(["inspect", str(fsd50k)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: {truth / name}:{line or ''}") and err.endswith(says) and "\n" not in err, err
        (truth / name).write_bytes(good)


def test_commonvoice_tsv_with_a_bad_byte_names_the_line(small_layout, tmp_path, capsys):
    root = tmp_path / "commonvoice"
    shutil.copytree(small_layout("commonvoice"), root)
    capsys.readouterr()  # the corpus generator's progress
    table = root / "validated.tsv"
    lines = table.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"\t", b"\t\xc3(", 1)  # an invalid two-byte sequence on line 4
    table.write_bytes(b"\n".join(lines))
    with pytest.raises(BadFileError, match=rf"^{table}:4: not UTF-8 text \(byte \d+ of the line is 0xc3\)$"):
        read_commonvoice(root)
    assert audioprep(["inspect", str(root)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {table}:4: not UTF-8 text")
    table.write_text("client_id\tsentence\nabc\thello\n", encoding="utf-8")
    assert audioprep(["inspect", str(root)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {table}:1: no 'path' column (columns: client_id, sentence)"
