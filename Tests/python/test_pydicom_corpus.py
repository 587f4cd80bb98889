"""Real DICOM files that no one here wrote: the test files bundled in the pydicom wheel (CT and MR
from scanners, secondary captures from dcmtk, GDCM and others, in many transfer syntaxes).

Rule (the foundation issue): whatever dcmtk's own tools decode, Vigil decodes, to the same pixels;
what they cannot decode gets a one-line error naming the file and the cause.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from vigil_cli import check_error, decode_npy, vigil

CORPUS = Path(pydicom.__file__).parent / "data" / "test_files"
FILES = sorted(p for p in CORPUS.glob("*.dcm"))

# dcmtk's decompressors by transfer syntax (everything else is native and read as is).
DECOMPRESSORS = {
    "1.2.840.10008.1.2.5": "dcmdrle",
    **{uid: "dcmdjpeg" for uid in ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                                   "1.2.840.10008.1.2.4.70")},
    **{uid: "dcmdjpls" for uid in ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81")},
}
NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}


def dcmtk_reference(path: Path, tmp: Path) -> np.ndarray | None:
    """The pixels as dcmtk decodes them (decompressed by dcmtk, read by pydicom), or None."""
    try:
        ds = pydicom.dcmread(path)
    except Exception:  # noqa: BLE001 - unreadable to pydicom too
        return None
    if "PixelData" not in ds:
        return None
    uid = str(ds.file_meta.TransferSyntaxUID) if "TransferSyntaxUID" in ds.file_meta else "1.2.840.10008.1.2"
    if uid not in NATIVE:
        tool = DECOMPRESSORS.get(uid)
        if tool is None:
            return None
        out = tmp / "dcmtk.dcm"
        if subprocess.run([tool, str(path), str(out)], capture_output=True, timeout=60).returncode != 0:
            return None
        ds = pydicom.dcmread(out)
    try:
        arr = ds.pixel_array
    except Exception:  # noqa: BLE001 - dcmtk wrote it, but it is not a decodable image
        return None
    return arr  # pydicom 3 already returns YBR as RGB


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_decodes_what_dcmtk_decodes(path: Path, tmp_path: Path) -> None:
    reference = dcmtk_reference(path, tmp_path)
    out = tmp_path / "vigil.npy"
    if reference is None:
        run = vigil("image", "convert", path, out)
        if run.returncode != 0:
            check_error(run, path, ("truncated:", "corrupt:", "unsupported:", "no pixel data", "too large:",
                                    "unknown image format"))
        return
    got = decode_npy(path, tmp_path)
    assert got.shape == reference.shape, f"{path.name}: shape {got.shape}, dcmtk {reference.shape}"
    difference = np.abs(got.astype(np.float64) - reference.astype(np.float64))
    # YBR to RGB: pydicom's and Vigil's formulas may round differently by one.
    allowed = 1 if got.ndim >= 3 and got.shape[-1] == 3 else 0
    assert difference.max() <= allowed, f"{path.name}: pixels differ from dcmtk's decoding by up to {difference.max()}"
