"""`vigil serve`'s DICOM port end to end, with real peers: dcmtk's echoscu, storescu and storescp
(which receives Vigil's Threat Detection Reports), and pynetdicom as a second implementation.

Every process a test starts is stopped by its process id; ports are picked at run time.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pydicom
import pytest
from pynetdicom import AE, build_context
from pynetdicom.sop_class import Verification

from test_service import REPO, Server, serve  # noqa: F401  (the fixture)
from vigil_cli import vigil

SAMPLE = REPO / "ScannerProfiles/samples/vehicle-top.dcm"  # names no scanner model: needs a configured profile
DICOS_DX = "1.2.840.10008.5.1.4.1.1.501.2.1"
SEED = 4244
DEADLINE = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*argv, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def report_receiver(tmp_path: Path):
    """dcmtk's storescp as a station's own SCP, AE title GATE; stopped by pid."""
    out = tmp_path / "reports"
    out.mkdir()
    port = free_port()
    proc = subprocess.Popen(["storescp", "-aet", "GATE", "-od", str(out), str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while run("echoscu", "-aec", "GATE", "127.0.0.1", port).returncode != 0:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "storescp did not start"
        time.sleep(0.1)
    yield port, out
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(10)


def station_config(report_port: int | None = None, **extra) -> dict:
    station = {"station": "lane-2", "site": "narva", "profile": "vehicle-top"}
    if report_port:
        station["reportTo"] = {"host": "127.0.0.1", "port": report_port, "aeTitle": "GATE"}
    return {"dicom": {"stations": {"STORESCU": station}}, **extra}


def wait_for(predicate, what: str, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def results(server: Server) -> list[dict]:
    return [s for s in server.scans() if s["verdict"] is not None]


def test_echo_and_store_give_a_result_and_a_report_to_the_station(serve, report_receiver):
    report_port, reports = report_receiver
    server = serve(config=station_config(report_port))
    assert run("echoscu", "-aec", "VIGIL", "127.0.0.1", server.dicom_port).returncode == 0
    sent = run("storescu", "-aec", "VIGIL", "-R", "127.0.0.1", server.dicom_port, SAMPLE)
    assert sent.returncode == 0, sent.stderr
    [scan] = wait_for(lambda: results(server), "the scan's result")
    sample = pydicom.dcmread(SAMPLE)
    assert (scan["via"], scan["station"], scan["site"], scan["profile"]) == ("dicom", "lane-2", "narva", "vehicle-top")
    assert scan["stationScanId"] == sample.SOPInstanceUID
    status, result = server.get_json(f"/api/scans/{scan['scanId']}")
    assert status == 200 and result["verdict"] in ("clear", "alarm")
    # The machine TDR reaches the station's SCP and references the image it sent.
    [path] = wait_for(lambda: list(reports.iterdir()), "the threat detection report")
    tdr = pydicom.dcmread(path)
    assert tdr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.501.3"
    assert tdr.Modality == "TDR"
    assert tdr[0x4010, 0x1027].value == "MACHINE"
    assert tdr[0x4010, 0x1031].value == result["verdict"].upper()
    assert tdr[0x4010, 0x1033].value == len(result["findings"])
    threats = tdr[0x4010, 0x1011].value if (0x4010, 0x1011) in tdr else []
    assert len(threats) == len(result["findings"])
    for item, finding in zip(threats, result["findings"]):
        assessment = item[0x4010, 0x1038].value[0]
        assert abs(assessment[0x4010, 0x1016].value - finding["confidence"]) < 1e-6
        polygon = list(item[0x4010, 0x1037].value[0][0x4010, 0x101D].value)
        b = finding["box"]
        assert polygon[:2] == [b["x"], b["y"]]
        assert polygon[3:5] == [b["x"] + b["width"] - 1, b["y"] + b["height"] - 1]
    referenced = {r.ReferencedSOPInstanceUID for r in tdr.ReferencedImageSequence} if "ReferencedImageSequence" in tdr else set()
    referenced |= {str(e.value) for e in tdr.iterall() if e.tag == (0x0008, 0x1155)}
    assert sample.SOPInstanceUID in referenced
    # The same report from the HTTP API.
    status, _, body = server.http(f"/api/scans/{scan['scanId']}/tdr.dcm")
    assert status == 200
    again = tdr_from(body, tmp=reports.parent)
    assert again[0x4010, 0x1031].value == tdr[0x4010, 0x1031].value
    assert again.SOPInstanceUID == tdr.SOPInstanceUID


def tdr_from(body: bytes, tmp: Path) -> pydicom.Dataset:
    path = tmp / f"api-{time.monotonic_ns()}.dcm"
    path.write_bytes(body)
    dump = run("dcmdump", path)
    assert dump.returncode == 0 and "E:" not in dump.stderr and "W:" not in dump.stderr, dump.stderr
    return pydicom.dcmread(path)


def test_dicos_files_that_name_their_scanner_need_no_configuration(serve, tmp_path):
    server = serve()
    out = tmp_path / "synth"
    assert vigil("synth", "--kind", "parcel", "--count", "2", "--seed", SEED, "--format", "dicom", "--out", out).returncode == 0
    files = sorted(out.glob("*.dcm"))
    sent = run("storescu", "-aec", "VIGIL", "-R", "127.0.0.1", server.dicom_port, *files)
    assert sent.returncode == 0, sent.stderr
    done = wait_for(lambda: len(results(server)) == 2 and results(server), "two results")
    # The same findings as the offline pipeline on the same files, on the profile the file names.
    by_uid = {pydicom.dcmread(f).SOPInstanceUID: f for f in files}
    for scan in done:
        _, result = server.get_json(f"/api/scans/{scan['scanId']}")
        assert result["profile"] == "parcel-de-160kv"
        offline = json.loads(vigil("analyze", by_uid[scan["stationScanId"]]).stdout)
        assert [(f["label"], f["box"]) for f in result["findings"]] == [(f["label"], f["box"]) for f in offline["findings"]]
    # A re-sent instance is the same scan, not a second analysis.
    assert run("storescu", "-aec", "VIGIL", "-R", "127.0.0.1", server.dicom_port, files[0]).returncode == 0
    assert len(server.scans()) == 2


def test_what_vigil_cannot_use_is_refused_cleanly_and_the_port_keeps_serving(serve, tmp_path):
    server = serve()
    port = server.dicom_port
    # Wrong called AE title: association rejected.
    wrong = run("storescu", "-aec", "NOT-VIGIL", "-R", "127.0.0.1", port, SAMPLE)
    assert wrong.returncode != 0 and "Called AE Title Not Recognized" in wrong.stdout + wrong.stderr
    # An MR image: nothing acceptable is proposed.
    mr = tmp_path / "mr.dcm"
    ds = pydicom.dcmread(SAMPLE)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.save_as(mr, enforce_file_format=True)
    refused = run("storescu", "-aec", "VIGIL", "-R", "127.0.0.1", port, mr)
    assert refused.returncode != 0 and "No Acceptable Presentation Contexts" in refused.stdout + refused.stderr
    # No profile can be found for this scanner (the sample names no model, no station config).
    unknown = run("storescu", "-v", "-aec", "VIGIL", "-R", "127.0.0.1", port, SAMPLE)
    assert "CannotUnderstand" in unknown.stdout + unknown.stderr, unknown.stdout + unknown.stderr
    # Garbage pixel data: the pixel element is shorter than rows x columns says.
    ds = pydicom.dcmread(SAMPLE)
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 3]
    broken = tmp_path / "broken.dcm"
    ds.save_as(broken, enforce_file_format=True)
    bad = run("storescu", "-v", "-aec", "VIGIL", "-R", "127.0.0.1", port, broken)
    assert "CannotUnderstand" in bad.stdout + bad.stderr, bad.stdout + bad.stderr
    # Random bytes on the port.
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(os.urandom(4096))
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, TimeoutError):
            pass
    assert run("echoscu", "-aec", "VIGIL", "127.0.0.1", port).returncode == 0
    assert server.scans() == [] and server.running()


def test_pynetdicom_echo_store_and_a_refused_context(serve):
    server = serve(config=station_config())
    ae = AE(ae_title="STORESCU")
    ae.add_requested_context(Verification)
    ae.add_requested_context(DICOS_DX, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.4")  # MR: not accepted
    assoc = ae.associate("127.0.0.1", server.dicom_port, ae_title="VIGIL")
    assert assoc.is_established
    accepted = {c.abstract_syntax for c in assoc.accepted_contexts}
    rejected = {c.abstract_syntax for c in assoc.rejected_contexts}
    assert {"1.2.840.10008.1.1", DICOS_DX} <= accepted and "1.2.840.10008.5.1.4.1.1.4" in rejected
    assert assoc.send_c_echo().Status == 0
    status = assoc.send_c_store(pydicom.dcmread(SAMPLE))
    assert status.Status == 0
    assoc.release()
    [scan] = wait_for(lambda: results(server), "the result")
    assert scan["via"] == "dicom" and scan["station"] == "lane-2"


def test_a_full_queue_answers_out_of_resources_and_keeps_every_accepted_scan(serve, tmp_path):
    server = serve("--queue-capacity", "1", "--workers", "1")
    out = tmp_path / "cargo"
    assert vigil("synth", "--kind", "cargo", "--count", "6", "--seed", SEED, "--format", "dicom", "--out", out,
                 timeout=300).returncode == 0
    procs = [subprocess.Popen(["storescu", "-v", "-aec", "VIGIL", "-R", "127.0.0.1", str(server.dicom_port), str(f)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for f in sorted(out.glob("*.dcm"))]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    stored = [o for o in outputs if "Received Store Response (Success)" in o]
    busy = [o for o in outputs if "OutOfResources" in o]
    assert len(stored) + len(busy) == len(outputs), outputs
    assert busy, "six cargo scans at once into a queue of one: some must be refused"
    done = wait_for(lambda: len(results(server)) == len(stored) and results(server), "every accepted scan's result")
    assert len({s["stationScanId"] for s in done}) == len(stored)
    series = server.metrics()
    assert any(n == "vigil_scans_rejected_total" and l.get("cause") == "busy" and v >= len(busy) for n, l, v in series)
