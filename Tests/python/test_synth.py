"""`vigil synth` output read by other people's readers: pydicom and dcmtk for the DICOS files,
tifffile for the TIFFs; labels.json in DESIGN.md's shape."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import tifffile

from vigil_cli import vigil

DICOS_DX_PRESENTATION = "1.2.840.10008.5.1.4.1.1.501.2.1"


def synth(tmp: Path, kind: str, fmt: str) -> dict:
    run = vigil("synth", "--kind", kind, "--count", "2", "--seed", "3", "--out", tmp, "--format", fmt, timeout=120)
    assert run.returncode == 0, run.describe()
    return json.loads((tmp / "labels.json").read_text())


@pytest.mark.parametrize("kind,channels", [("parcel", 2), ("vehicle", 1)])
def test_dicos_files_read_in_pydicom_and_dcmtk(tmp_path: Path, kind: str, channels: int) -> None:
    labels = synth(tmp_path, kind, "dicom")
    for entry in labels["scans"]:
        path = tmp_path / entry["file"]
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == DICOS_DX_PRESENTATION and ds.Modality == "DX"
        pixels = ds.pixel_array
        assert pixels.dtype == np.uint16 and (pixels.shape[0] == channels if channels > 1 else pixels.ndim == 2)
        assert subprocess.run(["dcmdump", "-q", str(path)], capture_output=True).returncode == 0
        out = tmp_path / (entry["file"] + ".npy")
        assert vigil("image", "convert", path, out).returncode == 0
        # Vigil's own reading of the file equals pydicom's.
        np.testing.assert_array_equal(np.load(out), pixels)


def test_tiff_pages_and_labels_shape(tmp_path: Path) -> None:
    labels = synth(tmp_path, "parcel", "tiff")
    assert set(labels) == {"scans"}
    for entry in labels["scans"]:
        assert set(entry) == {"file", "profile", "kind", "declaration", "objects"}
        assert set(entry["declaration"]) == {"category", "declaredEmpty"}
        pages = tifffile.imread(tmp_path / entry["file"])
        assert pages.shape[0] == 2 and pages.dtype == np.uint16  # high and low energy
        for o in entry["objects"]:
            assert set(o) == {"label", "kind", "material", "occlusion", "box"}
            b = o["box"]
            assert 0 <= b["x"] and b["x"] + b["width"] <= pages.shape[2] and 0 <= b["y"] and b["y"] + b["height"] <= pages.shape[1]


def test_unknown_kind_is_one_clear_line(tmp_path: Path) -> None:
    run = vigil("synth", "--kind", "boat", "--count", "1", "--seed", "1", "--out", tmp_path)
    assert run.returncode == 1 and run.stderr.strip() == "vigil: synth: kind 'boat' is not one of cargo, vehicle, parcel, cargo-pair"
