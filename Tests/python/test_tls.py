"""TLS on every listener and known stations, with real peers: `vigil certs init` makes the CA and
certificates; openssl s_client and curl speak HTTPS; `vigil push` speaks the native protocol over
TLS with and without a client certificate; dcmtk's echoscu and storescu speak DICOM with `+tls`.
The station registry (`vigil stations`) decides who may push for which site and profile.
"""
from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from test_service import HOST, RESOURCES, add_account, password_of, serve  # noqa: F401  (fixtures)
from vigil_cli import REPO, VIGIL, vigil

PARCEL = REPO / "ScannerProfiles/samples/parcel-de-160kv.tiff"
VEHICLE_DCM = REPO / "ScannerProfiles/samples/vehicle-top.dcm"


def run(*argv, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kwargs)


def stations(data: Path, *args) -> subprocess.CompletedProcess:
    return run(VIGIL, "stations", *args, "--data", data)


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    out = tmp_path / "certs"
    made = run(VIGIL, "certs", "init", "--out", out, "--station", "gate-1", "--station", "gate-2")
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert set(summary["stations"]) == {"gate-1", "gate-2"} and summary["hosts"] == ["localhost", "127.0.0.1", "::1"]
    for key in out.glob("*.key"):
        assert key.stat().st_mode & 0o077 == 0, f"{key} is readable by others"
    # openssl agrees the chain holds.
    assert run("openssl", "verify", "-CAfile", out / "ca.pem", out / "server.pem", out / "gate-1.pem").returncode == 0
    # A second init does not overwrite a CA in use.
    again = run(VIGIL, "certs", "init", "--out", out)
    assert again.returncode == 1 and "exists" in again.stderr and again.stderr.count("\n") == 1
    return out


def tls_config(certs: Path, require: bool = True) -> dict:
    return {"tls": {"certificate": str(certs / "server.pem"), "key": str(certs / "server.key"), "clientCA": str(certs / "ca.pem"),
                    "requireClientCertificates": require},
            "stations": {"registeredOnly": True}}


def https(server, certs: Path, path: str, method: str = "GET", body: dict | None = None, token: str | None = None):
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    req = urllib.request.Request(f"https://localhost:{server.http_port}{path}", method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=60, context=context) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def push(server, *args, station_cert: str | None = "gate-1", certs: Path, ca: bool = True):
    tls = (["--ca", certs / "ca.pem"] if ca else []) + (
        ["--cert", certs / f"{station_cert}.pem", "--key", certs / f"{station_cert}.key"] if station_cert else [])
    return run(VIGIL, "push", PARCEL, "--to", f"127.0.0.1:{server.ingest_port}", "--profile", "parcel-de-160kv", *tls, *args)


def test_every_listener_speaks_tls_and_stations_prove_who_they_are(serve, certs, tmp_path):
    data = tmp_path / "data"
    registered = stations(data, "add", "gate-1", "--site", "narva", "--profile", "parcel-de-160kv", "--profile", "vehicle-top",
                          "--ae-title", "GATE1")
    assert registered.returncode == 0, registered.stderr
    # The DICOM device's AE title is configured with its profile (the sample names no scanner model).
    server = serve(config={**tls_config(certs), "dicom": {"stations": {"GATE1": {"profile": "vehicle-top"}}}}, data=data)

    # HTTPS: openssl and curl verify the server against the CA; plain HTTP gets no answer.
    shown = run("openssl", "s_client", "-connect", f"127.0.0.1:{server.http_port}", "-CAfile", certs / "ca.pem", input="")
    assert "Verify return code: 0 (ok)" in shown.stdout, shown.stdout[-2000:]
    fetched = run("curl", "-sS", "--cacert", certs / "ca.pem", f"https://localhost:{server.http_port}/healthz")
    assert fetched.returncode == 0 and json.loads(fetched.stdout)["status"] == "ok", fetched.stderr
    assert run("curl", "-sS", "--max-time", "10", f"http://localhost:{server.http_port}/healthz").returncode != 0
    status, headers, body = https(server, certs, "/api/login", "POST", {"username": server.ADMIN, "password": password_of(server.ADMIN)})
    assert status == 200 and "Secure" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"], headers
    token = json.loads(body)["token"]

    # The native port: TLS with a client certificate the CA signed.
    shown = run("openssl", "s_client", "-connect", f"127.0.0.1:{server.ingest_port}", "-CAfile", certs / "ca.pem",
                "-cert", certs / "gate-1.pem", "-key", certs / "gate-1.key", input="")
    assert "Verify return code: 0 (ok)" in shown.stdout
    ok = push(server, "--scan-id", "tls-1", certs=certs)
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert (result["station"], result["site"], result["profile"]) == ("gate-1", "narva", "parcel-de-160kv")
    # Without a certificate, without TLS, with another station's name, site or an unregistered certificate: refused, one line each.
    for args, cert, ca, expected in [
        ((), None, True, "TLS"),
        ((), None, False, "that is TLS"),
        (("--site", "tallinn"), "gate-1", True, "registered for site narva, not tallinn"),
        (("--station", "gate-9"), "gate-1", True, "the client certificate is station gate-1's"),
        ((), "gate-2", True, "station gate-2 is not registered"),
    ]:
        refused = push(server, *args, station_cert=cert, certs=certs, ca=ca)
        assert refused.returncode == 1 and expected in refused.stderr and refused.stderr.count("\n") == 1, (args, cert, refused.stderr)

    # DICOM with dcmtk's +tls: the registered AE title with its certificate stores; another AE title is rejected.
    tls = ["+tls", certs / "gate-1.key", certs / "gate-1.pem", "+cf", certs / "ca.pem"]
    echoed = run("echoscu", *tls, "-aet", "GATE1", "-aec", "VIGIL", "127.0.0.1", server.dicom_port)
    assert echoed.returncode == 0, echoed.stderr
    rejected = run("echoscu", *tls, "-aet", "STRANGER", "-aec", "VIGIL", "127.0.0.1", server.dicom_port)
    assert rejected.returncode != 0 and "Calling AE Title Not Recognized" in rejected.stderr, rejected.stderr
    plain = run("echoscu", "-aet", "GATE1", "-aec", "VIGIL", "127.0.0.1", server.dicom_port)
    assert plain.returncode != 0
    stored = run("storescu", *tls, "-aet", "GATE1", "-aec", "VIGIL", "-R", "127.0.0.1", server.dicom_port, VEHICLE_DCM)
    assert stored.returncode == 0, stored.stderr
    deadline = time.monotonic() + 120
    while True:
        status, _, body = https(server, certs, "/api/scans?limit=10", token=token)
        dicom = [s for s in json.loads(body)["scans"] if s["via"] == "dicom"]
        if dicom and dicom[0]["verdict"] != "pending":
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.5)
    # The registered station and its site, whatever the device's AE title is.
    assert (dicom[0]["station"], dicom[0]["site"]) == ("gate-1", "narva"), dicom[0]


def test_registered_stations_only_without_client_certificates(serve, tmp_path):
    data = tmp_path / "data"
    assert stations(data, "add", "gate-1", "--site", "narva", "--profile", "parcel-de-160kv", "--ae-title", "PARCELS").returncode == 0
    # The configuration gives the DICOM device a profile its registration does not allow.
    server = serve(config={"stations": {"registeredOnly": True}, "dicom": {"stations": {"PARCELS": {"profile": "vehicle-top"}}}}, data=data)

    def plain_push(*args):
        return run(VIGIL, "push", PARCEL, "--to", f"127.0.0.1:{server.ingest_port}", *args)

    assert plain_push("--station", "gate-1", "--profile", "parcel-de-160kv").returncode == 0
    # The registered profile and site are filled in when the station names none.
    filled = plain_push("--station", "gate-1", "--scan-id", "filled")
    assert filled.returncode == 0 and (json.loads(filled.stdout)["site"], json.loads(filled.stdout)["profile"]) == ("narva", "parcel-de-160kv")
    for args, expected in [(("--station", "gate-1", "--profile", "vehicle-top"), "may push for parcel-de-160kv, not vehicle-top"),
                           (("--station", "intruder", "--profile", "parcel-de-160kv"), "station intruder is not registered")]:
        refused = plain_push(*args)
        assert refused.returncode == 1 and expected in refused.stderr, refused.stderr
    # A registration applies to the next scan, without a restart; a removal too.
    assert stations(data, "add", "intruder", "--site", "narva", "--profile", "parcel-de-160kv").returncode == 0
    assert plain_push("--station", "intruder", "--scan-id", "now-known").returncode == 0
    assert stations(data, "remove", "intruder").returncode == 0
    assert plain_push("--station", "intruder", "--scan-id", "gone-again").returncode == 1
    # DICOM: the AE title's station may store only its registered profiles.
    stored = run("storescu", "-v", "-aet", "PARCELS", "-aec", "VIGIL", "-R", "127.0.0.1", server.dicom_port, VEHICLE_DCM)
    # 0124H, "Refused: Not authorized" (PS3.7 annex C); dcmtk 3.6.7 prints it as an unknown status.
    assert "Received Store Response (Unknown Status: 0x124)" in stored.stderr, stored.stderr
    assert not [s for s in server.scans() if s["via"] == "dicom"]
    rejected = run("echoscu", "-aet", "UNKNOWN", "-aec", "VIGIL", "127.0.0.1", server.dicom_port)
    assert rejected.returncode != 0 and "Calling AE Title Not Recognized" in rejected.stderr


def test_stations_from_the_command_line_are_audited(tmp_path):
    data = tmp_path / "data"
    added = stations(data, "add", "gate-1", "--site", "narva", "--profile", "parcel-de-160kv", "--ae-title", "GATE1")
    assert added.returncode == 0 and json.loads(added.stdout)["profiles"] == ["parcel-de-160kv"]
    for args, message in [(("add", "gate-2", "--site", "narva"), "needs at least one --profile"),
                          (("add", "gate-2", "--site", "narva", "--profile", "p", "--ae-title", "GATE1"), "already station gate-1's"),
                          (("add", "gate-2", "--site", "narva", "--profile", "p", "--ae-title", "A" * 17), "1 to 16 characters"),
                          (("remove", "nobody"), "no registered station nobody")]:
        refused = stations(data, *args)
        assert refused.returncode == 1 and message in refused.stderr and refused.stderr.count("\n") == 1, (args, refused.stderr)
    assert stations(data, "remove", "gate-1").returncode == 0
    assert json.loads(stations(data, "list").stdout) == {"stations": []}
    entries = [json.loads(l) for l in vigil("audit", "export", "--data", data).stdout.splitlines()]
    assert [(e["action"], e["subject"]) for e in entries] == [("station.register", "gate-1"), ("station.remove", "gate-1")]
    assert entries[0]["actor"].startswith("cli:")


def test_a_plaintext_listener_off_loopback_is_refused(tmp_path):
    refused = run(VIGIL, "serve", "--bind", "0.0.0.0", "--data", tmp_path / "data", "--ingest-port", "0", "--http-port", "0",
                  "--dicom-port", "0", *RESOURCES)
    assert refused.returncode == 1 and "not loopback: configure tls" in refused.stderr and refused.stderr.count("\n") == 1, refused.stderr
