"""`vigil analyze` end to end with the bundled models: simulated scans (seeds never used in
training) in, DESIGN.md's result JSON out, and the hidden objects found."""
from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from vigil_cli import REPO, vigil

RESULT_KEYS = {"scanId", "source", "site", "station", "profile", "image", "verdict", "findings", "models", "timingsMs"}
FINDING_KEYS = {"kind", "label", "confidence", "threshold", "box", "model"}
SEED = 4242  # not a training seed (Models/training/specs.py) nor the held-out evaluation seed


def iou(a: dict, b: dict) -> float:
    x0, y0 = max(a["x"], b["x"]), max(a["y"], b["y"])
    x1 = min(a["x"] + a["width"], b["x"] + b["width"])
    y1 = min(a["y"] + a["height"], b["y"] + b["height"])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union else 0.0


def synth(tmp: Path, kind: str, count: int) -> dict:
    run = vigil("synth", "--kind", kind, "--count", str(count), "--seed", str(SEED), "--out", tmp, timeout=300)
    assert run.returncode == 0, run.describe()
    return json.loads((tmp / "labels.json").read_text())


def analyze(tmp: Path, entry: dict, *extra: str) -> dict:
    args = ["analyze", tmp / entry["file"], "--profile", entry["profile"], "--site", "test-site", *extra]
    declaration = entry["declaration"]
    if declaration["declaredEmpty"]:
        args.append("--declared-empty")
    elif declaration["category"]:
        args += ["--declared-category", declaration["category"]]
    run = vigil(*args, timeout=120)
    assert run.returncode == 0, run.describe()
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1, run.describe()
    return json.loads(lines[0])


def check_shape(result: dict, entry: dict) -> None:
    assert RESULT_KEYS <= set(result), result
    assert result["verdict"] in ("clear", "alarm")
    assert result["verdict"] == ("alarm" if result["findings"] else "clear")
    assert result["profile"] == entry["profile"] and result["site"] == "test-site"
    assert result["source"].endswith(entry["file"])
    for f in result["findings"]:
        assert FINDING_KEYS <= set(f), f
        assert 0 <= f["confidence"] <= 1 and f["confidence"] >= f["threshold"]
        b = f["box"]
        assert 0 <= b["x"] and b["x"] + b["width"] <= result["image"]["width"]
        assert 0 <= b["y"] and b["y"] + b["height"] <= result["image"]["height"]
    assert {m["name"] for m in result["models"]}, "no model ran"
    assert set(result["timingsMs"]) >= {"decode", "preprocess", "inference", "postprocess", "total"}


@pytest.mark.parametrize("kind,count", [("cargo", 24), ("parcel", 24), ("vehicle", 16)])
def test_analyze_finds_what_was_hidden(tmp_path: Path, kind: str, count: int) -> None:
    labels = synth(tmp_path, kind, count)
    hidden = found = clear = clear_alarms = 0
    for entry in labels["scans"]:
        result = analyze(tmp_path, entry)
        check_shape(result, entry)
        targets = [o for o in entry["objects"] if o["kind"] in ("threat", "concealment")]
        threats = [f for f in result["findings"] if f["kind"] in ("threat", "concealment")]
        for o in targets:
            if kind == "cargo" and o["label"] == "blade":
                continue  # 4 mm of steel at MeV energies: the model card reports blades as mostly missed
            hidden += 1
            found += any(f["label"] == o["label"] and iou(f["box"], o["box"]) >= 0.3 for f in threats)
        if not targets:
            clear += 1
            clear_alarms += bool(threats)
    assert hidden >= 5, "the seed should hide several objects"
    # The bundled models' held-out figures are in their model cards (cargo blades are mostly
    # missed); these bounds are looser, so the test checks the pipeline (decoding, tiling,
    # coordinates back to the received scan), not the last percent.
    # cargo-threat finds 85-89 % and parcel-threat 69 % at 1 % false alarms (model cards).
    assert found >= (0.75 if kind != "parcel" else 0.55) * hidden, f"found {found} of {hidden} hidden objects"
    assert clear_alarms <= max(1, clear // 5), f"{clear_alarms} of {clear} clear scans alarmed"


def test_declared_empty_container_that_is_loaded_is_reported(tmp_path: Path) -> None:
    labels = synth(tmp_path, "cargo", 32)
    declared_empty = [e for e in labels["scans"] if e["declaration"]["declaredEmpty"]]
    assert any(e.get("load") for e in declared_empty) and any(not e.get("load") for e in declared_empty)
    right = 0
    for entry in declared_empty:
        result = analyze(tmp_path, entry)
        not_empty = [f for f in result["findings"] if f["kind"] == "not-empty"]
        if entry.get("load"):
            right += bool(not_empty) and iou(not_empty[0]["box"], entry["load"]["box"]) >= 0.3
        else:
            right += not not_empty
    assert right >= len(declared_empty) - 1, f"{right} of {len(declared_empty)} declared-empty containers verified"


def test_errors_name_the_input_and_the_cause(tmp_path: Path) -> None:
    labels = synth(tmp_path, "parcel", 1)
    scan = tmp_path / labels["scans"][0]["file"]
    run = vigil("analyze", scan, "--profile", "no-such-scanner")
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and str(scan) in run.stderr and "no-such-scanner" in run.stderr
    assert json.loads(run.stdout)["verdict"] == "error"
    # No profile and a TIFF that does not name its scanner.
    run = vigil("analyze", scan)
    assert run.returncode == 1 and "--profile" in run.stderr
    # One unreadable file among good ones: the good ones are still analysed.
    bad = tmp_path / "truncated.tiff"
    bad.write_bytes(scan.read_bytes()[:300])
    run = vigil("analyze", scan, bad, "--profile", "parcel-de-160kv", timeout=120)
    assert run.returncode == 1
    verdicts = [json.loads(line)["verdict"] for line in run.stdout.splitlines()]
    assert verdicts[0] in ("clear", "alarm") and verdicts[1] == "error"
    assert str(bad) in run.stderr


def test_a_model_folder_with_a_broken_manifest_stops_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "models" / "cargo-threat" / "9.0.0"
    broken.mkdir(parents=True)
    manifest = json.loads((REPO / "Models/cargo-threat/1.0.0/manifest.json").read_text())
    manifest["thresholds"]["pistol"] = 1.5
    (broken / "manifest.json").write_text(json.dumps(manifest))
    run = vigil("analyze", tmp_path / "none.tiff", "--profile", "cargo-de-linac", "--models", tmp_path / "models")
    assert run.returncode == 1
    assert "manifest.json" in run.stderr and "thresholds.pistol" in run.stderr


def iou3(a: dict, a_slices: list[int], b: dict, b_slices: list[int]) -> float:
    """IoU of two cuboids: a box in slice pixels times a slice range."""
    x0, y0 = max(a["x"], b["x"]), max(a["y"], b["y"])
    x1 = min(a["x"] + a["width"], b["x"] + b["width"])
    y1 = min(a["y"] + a["height"], b["y"] + b["height"])
    depth = max(0, min(a_slices[1], b_slices[1]) - max(a_slices[0], b_slices[0]) + 1)
    inter = max(0, x1 - x0) * max(0, y1 - y0) * depth
    va = a["width"] * a["height"] * (a_slices[1] - a_slices[0] + 1)
    vb = b["width"] * b["height"] * (b_slices[1] - b_slices[0] + 1)
    return inter / (va + vb - inter) if va + vb - inter else 0.0


def test_ct_volume_findings_carry_their_slices(tmp_path: Path) -> None:
    run = vigil("synth", "--kind", "parcel-ct", "--count", "10", "--seed", str(SEED), "--out", tmp_path, timeout=300)
    assert run.returncode == 0, run.describe()
    labels = json.loads((tmp_path / "labels.json").read_text())
    hidden = found = 0
    for entry in labels["scans"]:
        info = json.loads(vigil("image", "info", tmp_path / entry["file"]).stdout)
        run = vigil("analyze", tmp_path / entry["file"], "--profile", "parcel-ct", timeout=120)
        assert run.returncode == 0, run.describe()
        result = json.loads(run.stdout)
        assert result["image"]["frames"] == info["frames"] and result["image"]["width"] == info["width"]
        for f in result["findings"]:
            first, last = f["slices"]
            assert 0 <= first <= last < info["frames"], f
        for o in entry["objects"]:
            # Narcotics need dual-energy contrast, which a CT projection lacks (0 % in the model card).
            if o["kind"] != "threat" or o["label"] == "narcotics":
                continue
            hidden += 1
            found += any(f["label"] == o["label"] and iou3(f["box"], f["slices"], o["box"], o["slices"]) >= 0.1
                         for f in result["findings"])
    assert hidden >= 2
    assert found >= hidden // 2, f"found {found} of {hidden} objects hidden in CT volumes"


def test_dicos_scan_names_its_scanner_and_instance(tmp_path: Path) -> None:
    run = vigil("synth", "--kind", "parcel", "--count", "1", "--seed", str(SEED), "--out", tmp_path, "--format", "dicom", timeout=120)
    assert run.returncode == 0, run.describe()
    run = vigil("analyze", tmp_path / "parcel-0001.dcm", timeout=120)
    assert run.returncode == 0, run.describe()
    result = json.loads(run.stdout)
    # No --profile: the DICOS Manufacturer's Model Name picks it; the SOP Instance UID is the scan id.
    assert result["profile"] == "parcel-de-160kv"
    ds = pydicom.dcmread(tmp_path / "parcel-0001.dcm")
    assert result["scanId"] == ds.SOPInstanceUID and result["station"] == ds.StationName
