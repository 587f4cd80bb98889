"""`vigil pair`: the cross-check's command line as an analyst or a script uses it. The result is
one JSON document; scans that cannot be compared give exit 1 and one line naming them and why."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vigil_cli import vigil


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("pairs")
    run = vigil("synth", "--kind", "cargo-pair", "--count", "3", "--seed", "11", "--out", out, timeout=300)
    assert run.returncode == 0, run.describe()
    return out, {s["file"]: s for s in json.loads((out / "labels.json").read_text())["scans"]}


def test_a_pair_gives_its_differences_in_both_scans_pixels(pairs: tuple[Path, dict]) -> None:
    out, labels = pairs
    for name, entry in labels.items():
        if not name.endswith("-a.tiff"):
            continue
        run = vigil("pair", out / name, out / entry["pairOf"], "--profile-a", entry["profile"],
                    "--profile-b", labels[entry["pairOf"]]["profile"], timeout=120)
        assert run.returncode == 0, run.describe()
        doc = json.loads(run.stdout)
        assert doc["profileA"] == "cargo-de-linac" and doc["profileB"] == "cargo-de-mobile"
        assert doc["verdict"] == ("alarm" if doc["findings"] else "clear")
        for f in doc["findings"]:
            assert f["kind"] == "paired-difference" and f["label"] in ("added", "removed") and 0 <= f["confidence"] <= 1
            assert set(f["box"]) >= {"x", "y", "width", "height"} and set(f["otherBox"]) >= {"x", "y", "width", "height"}
        # The registration map: a column of A, and the column of B that saw the same place.
        assert len(doc["registration"]["columns"]) > 100 and all(len(c) == 2 for c in doc["registration"]["columns"])
        changes = [o for o in entry["objects"] if o["kind"] == "paired-difference"]
        if not changes:
            assert doc["findings"] == [], run.describe()


def test_an_unreadable_scan_is_one_clear_line(pairs: tuple[Path, dict], tmp_path: Path) -> None:
    out, labels = pairs
    garbage = tmp_path / "broken.tiff"
    garbage.write_bytes(b"II*\x00" + b"\xff" * 64)
    run = vigil("pair", out / "pair-0001-a.tiff", garbage, "--profile-a", "cargo-de-linac", "--profile-b", "cargo-de-mobile")
    assert run.returncode == 1, run.describe()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(garbage) in lines[0] and run.stdout == "", run.describe()


def test_a_parcel_and_a_truck_are_refused(pairs: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = pairs
    run = vigil("synth", "--kind", "parcel", "--count", "1", "--seed", "2", "--out", tmp_path, timeout=120)
    assert run.returncode == 0, run.describe()
    run = vigil("pair", out / "pair-0001-a.tiff", tmp_path / "parcel-0001.tiff", "--profile-a", "cargo-de-linac",
                "--profile-b", "parcel-de-160kv", timeout=120)
    assert run.returncode == 1, run.describe()
    assert run.stderr.count("\n") == 1 and "cannot be compared" in run.stderr, run.describe()
