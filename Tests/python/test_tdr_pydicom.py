"""Vigil's DICOS Threat Detection Reports read by pydicom, an independent DICOM reader.

The reports are the ones DICOSTests writes (alarm with a 2-D and a CT finding, clear, error): the
Swift tests run once with VIGIL_TDR_SAMPLES set, which makes them keep their files. Needs the
Swift tests built (`swift build --build-tests`).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pydicom
import pytest

REPO = Path(__file__).resolve().parents[2]
TDR_CLASS = "1.2.840.10008.5.1.4.1.1.501.3"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pydicom.Dataset]:
    folder = tmp_path_factory.mktemp("tdr")
    run = subprocess.run(["swift", "test", "--skip-build", "--filter", "DICOSTests.ThreatDetectionReportTests"],
                         cwd=REPO, env={**os.environ, "VIGIL_TDR_SAMPLES": str(folder)},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"DICOSTests failed or are not built:\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
    found = {p.name.split("(")[0]: pydicom.dcmread(p) for p in folder.glob("*.dcs")}
    assert set(found) == {"testAlarmWithTwoDimensionalAndCTFindings", "testClearReportHasNoThreats",
                          "testErrorReportIsUnknownAndAborted"}, sorted(found)
    return found


def test_every_report_is_a_tdr_in_explicit_little_endian(reports: dict[str, pydicom.Dataset]) -> None:
    for name, ds in reports.items():
        assert ds.file_meta.MediaStorageSOPClassUID == TDR_CLASS, name
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1", name
        assert ds.SOPClassUID == TDR_CLASS, name
        assert ds.Modality == "TDR", name
        assert ds.TDRType == "MACHINE", name
        assert ds.Manufacturer == "Vigil", name
        assert len(ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence) == 1, name


def test_alarm_report_findings(reports: dict[str, pydicom.Dataset]) -> None:
    ds = reports["testAlarmWithTwoDimensionalAndCTFindings"]
    assert ds.AlarmDecision == "ALARM"
    assert ds.AbortFlag == "SUCCESS"
    assert ds.NumberOfTotalObjects == 2 and ds.NumberOfAlarmObjects == 2
    assert list(ds.ThreatDetectionAlgorithmAndVersion) == ["parcel-threat@1.0.0", "cargo-empty@1.1.0"]
    assert ds.TotalProcessingTime == pytest.approx(12.5)
    image = ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
    pistol, narcotics = ds.ThreatSequence
    assert [pistol.PotentialThreatObjectID, narcotics.PotentialThreatObjectID] == [1, 2]
    assert pistol.ATDAssessmentSequence[0].ThreatCategory == "PI"
    assert pistol.ATDAssessmentSequence[0].ATDAssessmentFlag == "THREAT"
    assert pistol.ATDAssessmentSequence[0].ATDAssessmentProbability == pytest.approx(0.91, abs=1e-6)
    assert narcotics.ATDAssessmentSequence[0].ThreatCategory == "CONTRABAND"
    assert list(pistol.PTORepresentationSequence[0].BoundingPolygon) == [120, 40, 0, 199, 69, 0]
    assert list(narcotics.PTORepresentationSequence[0].BoundingPolygon) == [10, 20, 3, 14, 25, 9]
    for threat in ds.ThreatSequence:
        assert threat.PTORepresentationSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == image


def test_clear_and_error_reports(reports: dict[str, pydicom.Dataset]) -> None:
    clear = reports["testClearReportHasNoThreats"]
    assert clear.AlarmDecision == "CLEAR" and clear.NumberOfTotalObjects == 0
    assert len(clear.ThreatSequence) == 0
    error = reports["testErrorReportIsUnknownAndAborted"]
    assert error.AlarmDecision == "UNKNOWN"
    assert error.AbortFlag == "ABORT" and error.AbortReason == "UNKNOWN_DATATYPE"
    assert error.StudyInstanceUID.startswith("2.25.")
