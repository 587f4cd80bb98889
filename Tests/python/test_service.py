"""`vigil serve` end to end on loopback: the native ingest protocol (docs/protocol.md) through
station_client.py, which is written from that document alone, plus the HTTP API.

Every test starts its own server (free ports, a temporary data folder) and stops it by process
id; a server that does not stop, or exits non-zero after SIGTERM, fails the test.
"""
from __future__ import annotations

import io
import json
import os
import random
import re
import selectors
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

import station_client as sc
from station_client import (ACK, ERROR, HELLO, PING, PONG, RESULT, SCAN, WELCOME, ConnectionClosed,
                            StationClient, encode_frame, encode_json, pump_many, scan_payload)
from vigil_cli import REPO, VIGIL, vigil

HOST = "127.0.0.1"
PROFILE = "parcel-de-160kv"
SITE = "test-site"  # no site policy of that name: central thresholds, as `vigil analyze --site test-site`
SEED = 4243  # not a training seed nor the held-out evaluation seed (Models/training/specs.py)
RESOURCES = ["--models", REPO / "Models", "--profiles", REPO / "ScannerProfiles"]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0
ANSWER_TIMEOUT = 120.0  # debug builds on a shared 2-core machine are slow; this is a hang guard
# Error codes of docs/protocol.md; anything else from the server is a protocol violation.
ERROR_CODES = {"bad-frame", "too-large", "unsupported-format", "unknown-profile", "busy", "shutting-down",
               "internal", "unsupported-version", "idle-timeout", "forbidden"}


# --------------------------------------------------------------------------------------------
# The server under test


def password_of(name: str) -> str:
    """The tests' accounts have made-up passwords derived from the name."""
    return f"{name}-not-a-real-password"


def add_account(data: Path, name: str, role: str, site: str | None = None) -> None:
    """`vigil users add` on the data folder, as an operator would before starting the service."""
    run = subprocess.run([str(VIGIL), "users", "add", name, "--role", role, *(["--site", site] if site else []),
                          "--password-stdin", "--data", str(data)], input=password_of(name) + "\n",
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 or "already exists" in run.stderr, run.stderr


class Server:
    """One `vigil serve` process, driven by pid. The HTTP helpers sign in as `tester`, an admin
    added to the data folder before the service starts, unless told otherwise."""

    ADMIN = "tester"

    def __init__(self, workdir: Path, data: Path, *args: str, config: dict | None = None):
        self.workdir = workdir
        self.data = data
        self.tokens: dict[str, str] = {}
        self.args = [str(a) for a in args]
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.ingest_port = self.http_port = self.dicom_port = 0
        self.log: Path | None = None

    def start(self) -> "Server":
        add_account(self.data, self.ADMIN, "admin")
        self.tokens.clear()  # a restarted service keeps its tokens, but the tests sign in afresh
        argv = [str(VIGIL), "serve", "--data", str(self.data), "--ingest-port", "0", "--http-port", "0",
                "--dicom-port", "0", *map(str, RESOURCES), *self.args]
        if self.config is not None:
            path = self.workdir / f"config-{os.getpid()}-{time.monotonic_ns()}.json"
            path.write_text(json.dumps(self.config))
            argv += ["--config", str(path)]
        self.log = self.workdir / f"serve-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log.open("wb"))
        line = self._ready_line()
        ready = json.loads(line)
        assert ready.get("event") == "listening", f"unexpected first line {line!r}"
        self.ingest_port, self.http_port = ready["ingestPort"], ready["httpPort"]
        self.dicom_port = ready["dicomPort"]
        return self

    def _ready_line(self) -> str:
        """The one JSON line printed once listening; fails on exit or after READY_TIMEOUT."""
        assert self.proc and self.proc.stdout
        deadline = time.monotonic() + READY_TIMEOUT
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.kill9()
                    raise AssertionError(f"vigil serve printed no ready line in {READY_TIMEOUT}s\n{self.stderr()}")
                if sel.select(remaining):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:
                        self.proc.wait(10)
                        raise AssertionError(f"vigil serve exited {self.proc.returncode} before listening\n"
                                             f"stdout {buf!r}\n{self.stderr()}")
                    buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def stderr(self, tail: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log and self.log.exists() else ""
        return "stderr (tail):\n" + text[-tail:]

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Signals the process by pid; kills it and fails loudly if it does not exit in time."""
        assert self.proc
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
                raise AssertionError(f"vigil serve (pid {self.pid}) did not stop within {timeout}s of "
                                     f"{signal.Signals(sig).name}; killed\n{self.stderr()}")
        return self.proc.returncode

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def close_pipes(self) -> None:
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    # -- clients ---------------------------------------------------------------------------
    def client(self, timeout: float = ANSWER_TIMEOUT) -> StationClient:
        return StationClient(HOST, self.ingest_port, timeout=timeout)

    def connect(self, station: str | None = "gate-1", timeout: float = ANSWER_TIMEOUT) -> StationClient:
        c = self.client(timeout)
        c.hello(station=station)
        return c

    def http(self, path: str, method: str = "GET", body: dict | None = None, as_user: str | None = ADMIN,
             token: str | None = None) -> tuple[int, dict, bytes]:
        """One request; signed in as `as_user` (None: anonymous) unless a `token` is given."""
        url = f"http://{HOST}:{self.http_port}{path}"
        headers = {"Content-Type": "application/json"}
        token = token or (self.token(as_user) if as_user else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get_json(self, path: str, **kwargs) -> tuple[int, dict]:
        status, _, body = self.http(path, **kwargs)
        return status, json.loads(body)

    def account(self, name: str, role: str = "analyst", site: str | None = None) -> str:
        """Adds an account through the API (as the admin) unless it exists; returns its name."""
        status, _, body = self.http("/api/users", "POST", {"name": name, "role": role, "site": site, "password": password_of(name)})
        assert status == 201 or (status == 422 and b"already exists" in body), body
        return name

    def token(self, name: str) -> str:
        """A bearer token for `name` (signing in on first use)."""
        if name not in self.tokens:
            status, _, body = self.http("/api/login", "POST", {"username": name, "password": password_of(name)}, as_user=None)
            assert status == 200, (name, status, body)
            self.tokens[name] = json.loads(body)["token"]
        return self.tokens[name]

    def scans(self, query: str = "limit=10000") -> list[dict]:
        status, doc = self.get_json(f"/api/scans?{query}")
        assert status == 200, (query, status, doc)
        return doc["scans"]

    def metrics(self) -> list[tuple[str, dict, float]]:
        status, _, body = self.http("/metrics")
        assert status == 200
        series = []
        for line in body.decode().splitlines():
            if not line or line.startswith("#"):
                continue
            m = re.fullmatch(r'([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)', line)
            assert m, f"not a Prometheus sample line: {line!r}"
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            series.append((m.group(1), labels, float(m.group(3))))
        return series


def metric(series: list, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    return sum(v for n, l, v in series if n == name and all(l.get(k) == w for k, w in labels.items()))


@pytest.fixture
def serve(tmp_path: Path):
    """Factory: serve(*args, config=..., data=...) starts a server; all are stopped by pid after."""
    started: list[Server] = []

    def start(*args, config: dict | None = None, data: Path | None = None) -> Server:
        server = Server(tmp_path, data or tmp_path / f"data{len(started)}", *args, config=config)
        started.append(server)
        return server.start()

    yield start
    problems = []
    for server in started:
        if server.running():
            try:
                code = server.stop()
                if code != 0:
                    problems.append(f"pid {server.pid} exited {code} after SIGTERM\n{server.stderr()}")
            except AssertionError as e:
                problems.append(str(e))
        server.close_pipes()
    if problems:
        pytest.fail("\n".join(problems))


# --------------------------------------------------------------------------------------------
# Scans and what `vigil analyze` says about them


@dataclass
class Parcel:
    path: Path
    profile: str
    declaration: dict
    has_threat: bool

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


@pytest.fixture(scope="session")
def parcels(tmp_path_factory: pytest.TempPathFactory) -> list[Parcel]:
    out = tmp_path_factory.mktemp("parcels")
    run = vigil("synth", "--kind", "parcel", "--count", "32", "--seed", str(SEED), "--out", out,
                "--profiles", REPO / "ScannerProfiles", timeout=300)
    assert run.returncode == 0, run.describe()
    labels = json.loads((out / "labels.json").read_text())
    return [Parcel(out / e["file"], e["profile"], e["declaration"],
                   any(o["kind"] in ("threat", "concealment") for o in e["objects"]))
            for e in labels["scans"]]


_analyzed: dict[Path, dict] = {}


def analyzed(p: Parcel) -> dict:
    """`vigil analyze` of the same file with the same profile, site and declaration."""
    if p.path not in _analyzed:
        args = ["analyze", p.path, "--profile", p.profile, "--site", SITE, *RESOURCES]
        if p.declaration.get("declaredEmpty"):
            args.append("--declared-empty")
        elif p.declaration.get("category"):
            args += ["--declared-category", p.declaration["category"]]
        run = vigil(*args, timeout=120)
        assert run.returncode == 0, run.describe()
        _analyzed[p.path] = json.loads(run.stdout)
    return _analyzed[p.path]


def meta(p: Parcel, scan_id: str, **extra) -> dict:
    return {"scanId": scan_id, "profile": p.profile, "site": SITE, "source": p.name,
            "declaration": p.declaration, **extra}


def finding_key(f: dict) -> tuple:
    b = f["box"]
    return f["kind"], f["label"], b["x"], b["y"], b["width"], b["height"]


def assert_same_findings(got: dict, want: dict) -> None:
    """Same verdict and findings (kind, label, box, model, threshold; confidence to 1e-4)."""
    assert got["verdict"] == want["verdict"], f"verdict {got['verdict']} != {want['verdict']}\n{got}\n{want}"
    assert {k: got["image"][k] for k in ("width", "height")} == {k: want["image"][k] for k in ("width", "height")}
    g = sorted(got["findings"], key=finding_key)
    w = sorted(want["findings"], key=finding_key)
    assert [finding_key(f) for f in g] == [finding_key(f) for f in w], f"findings differ\n{g}\n{w}"
    for a, b in zip(g, w):
        assert a["model"] == b["model"] and a["threshold"] == pytest.approx(b["threshold"])
        assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-4), (a, b)


def mixed(parcels: list[Parcel], n: int) -> list[Parcel]:
    """n parcels, half of them hiding a threat (so some results have findings)."""
    threats = [p for p in parcels if p.has_threat]
    plain = [p for p in parcels if not p.has_threat]
    k = min(len(threats), n // 2)
    return threats[:k] + plain[:n - k]


def assert_serves(server: Server, parcel: Parcel, scan_id: str | None = None) -> dict:
    """A fresh, well-behaved station still gets ACK then RESULT."""
    scan_id = scan_id or f"probe-{time.monotonic_ns()}"
    with server.connect(station="probe") as c:
        rid = c.send_scan(meta(parcel, scan_id), parcel.data)
        o = c.wait(rid)
    assert o.types == ["ACK", "RESULT"], f"good client after the error got {o.frames}\n{server.stderr()}"
    assert o.result["verdict"] in ("clear", "alarm"), o.result
    return o.result


def expect_error(c: StationClient, code: str, request_ids: tuple[int, ...] = (0,)) -> dict:
    frame = c.read_frame(30)
    assert frame is not None, f"connection closed without ERROR {code}"
    assert frame.type == ERROR, f"expected ERROR {code}, got {frame!r}"
    body = frame.json()
    assert body.get("code") == code, f"expected {code}, got {body}"
    assert isinstance(body.get("message"), str) and body["message"], body
    assert frame.request_id in request_ids, f"ERROR {code} with request id {frame.request_id}, expected {request_ids}"
    return body


def expect_closed(c: StationClient, why: str) -> None:
    """The server closes: EOF, with no further frame."""
    try:
        frame = c.read_frame(15)
    except TimeoutError:
        raise AssertionError(f"connection still open 15 s after {why}") from None
    except ConnectionClosed as e:
        raise AssertionError(f"connection closed mid-frame after {why}: {e}") from None
    assert frame is None, f"expected the connection closed after {why}, got {frame!r}"


# --------------------------------------------------------------------------------------------
# Pushing scans


def test_scans_in_flight_get_ack_then_result_with_the_findings_of_analyze(serve, parcels):
    server = serve()
    chosen = mixed(parcels, 6)
    with server.connect(station="gate-1") as c:
        # Every SCAN is sent before any answer is read: all six are in flight on one connection.
        sent = {}
        for i, p in enumerate(chosen):
            extra = {"station": "gate-override"} if i == 0 else {}  # metadata overrides HELLO's station
            sent[c.send_scan(meta(p, f"inflight-{i}", **extra), p.data)] = (i, p)
        outcomes = c.wait_all(timeout=ANSWER_TIMEOUT)
        assert not c.connection_frames, c.connection_frames
    assert any(analyzed(p)["findings"] for p in chosen), "the chosen parcels should give some findings"
    ids = set()
    for rid, (i, p) in sent.items():
        o = outcomes[rid]
        assert o.types == ["ACK", "RESULT"], f"request {rid}: {o.frames}"
        assert o.ack["duplicate"] is False
        r = o.result
        assert r["scanId"] == o.ack["scanId"]
        assert r["station"] == ("gate-override" if i == 0 else "gate-1")
        assert (r["site"], r["profile"], r["source"]) == (SITE, p.profile, p.name)
        assert_same_findings(r, analyzed(p))
        ids.add(r["scanId"])
    assert len(ids) == len(chosen), "each scan gets its own Vigil id"


def test_a_resent_scan_is_acknowledged_as_a_duplicate_with_the_same_result(serve, parcels):
    server = serve()
    p = mixed(parcels, 2)[0]
    m = meta(p, "dup-1", site="dup-site")
    first = sc.push_one(HOST, server.ingest_port, m, p.data, station="gate-d", timeout=ANSWER_TIMEOUT)
    assert first.types == ["ACK", "RESULT"], first.frames
    vid = first.ack["scanId"]
    # Same station (from HELLO, then from the metadata), new connection, sent twice on it.
    with server.connect(station="gate-d") as c:
        outcomes = [c.wait(c.send_scan(m, p.data)), c.wait(c.send_scan(m, p.data))]
    with server.connect(station=None) as c:
        outcomes.append(c.wait(c.send_scan({**m, "station": "gate-d"}, p.data)))
    for o in outcomes:
        assert o.types == ["ACK", "RESULT"], o.frames
        assert o.ack == {"scanId": vid, "duplicate": True}
        assert o.result == first.result, "a duplicate must get the stored result, not a new analysis"
    # The same scanId from another station is another scan.
    other = sc.push_one(HOST, server.ingest_port, m, p.data, station="gate-other", timeout=ANSWER_TIMEOUT)
    assert other.ack["duplicate"] is False and other.ack["scanId"] != vid
    listed = server.scans("site=dup-site")
    assert sorted((s["station"], s["stationScanId"]) for s in listed) == [("gate-d", "dup-1"), ("gate-other", "dup-1")]


def test_a_scan_sent_on_two_connections_at_once_is_analysed_once(serve, parcels):
    server = serve()
    p = parcels[0]
    m = meta(p, "twice-1", site="twice-site")
    a, b = server.connect(station="gate-t"), server.connect(station="gate-t")
    with a, b:
        ra, rb = a.send_scan(m, p.data), b.send_scan(m, p.data)
        oa, ob = a.wait(ra), b.wait(rb)
    assert oa.types == ob.types == ["ACK", "RESULT"], (oa.frames, ob.frames)
    assert oa.ack["scanId"] == ob.ack["scanId"]
    assert sorted([oa.ack["duplicate"], ob.ack["duplicate"]]) == [False, True]
    assert oa.result == ob.result
    assert len(server.scans("site=twice-site")) == 1


def test_raw_planar_pixels_give_the_findings_of_the_tiff(serve, parcels):
    server = serve()
    p = mixed(parcels, 2)[0]
    with tifffile.TiffFile(p.path) as tif:
        # vigil synth writes one 16-bit grey page per channel (high, low): stacked, they are planar.
        assert len(tif.pages) == 2 and all(pg.samplesperpixel == 1 and pg.dtype == np.uint16 for pg in tif.pages)
        pixels = np.stack([pg.asarray() for pg in tif.pages])
    channels, height, width = pixels.shape
    layout = {"width": width, "height": height, "channels": channels, "frames": 1, "sample": "uint16",
              "bitsStored": 16}
    with server.connect(station="gate-raw") as c:
        tiff = c.send_scan(meta(p, "raw-tiff"), p.data)
        little = c.send_scan(meta(p, "raw-le", format="raw", raw={**layout, "byteOrder": "little"}),
                             pixels.astype("<u2").tobytes())
        big = c.send_scan(meta(p, "raw-be", format="raw", raw={**layout, "byteOrder": "big"}),
                          pixels.astype(">u2").tobytes())
        outcomes = c.wait_all()
    for rid in (tiff, little, big):
        assert outcomes[rid].types == ["ACK", "RESULT"], outcomes[rid].frames
    reference = outcomes[tiff].result
    assert_same_findings(reference, analyzed(p))
    for rid in (little, big):
        r = outcomes[rid].result
        assert (r["image"]["width"], r["image"]["height"]) == (width, height)
        assert_same_findings(r, reference)


# --------------------------------------------------------------------------------------------
# Errors


def _wrong_magic(c):
    c.hello()
    c.send_raw(encode_frame(PING, 0, b"x", magic=b"VIGX"))


def _unknown_type(c):
    c.hello()
    c.send_raw(encode_frame(42, 0, b""))


def _scan_before_hello(c):
    c.send_raw(encode_frame(SCAN, 1, scan_payload({"scanId": "early", "profile": PROFILE}, b"\0" * 64)))


def _ping_before_hello(c):
    c.send_raw(encode_frame(PING, 0, b"too early"))


def _second_hello(c):
    c.hello()
    c.send_raw(encode_frame(HELLO, 0, encode_json({"versions": [1]})))


def _unsupported_version(c):
    c.send_raw(encode_frame(HELLO, 0, encode_json({"versions": [2, 99], "station": "future"})))


CLOSING_ERRORS = {
    "wrong-magic": (_wrong_magic, "bad-frame"),
    "unknown-frame-type": (_unknown_type, "bad-frame"),
    "scan-before-hello": (_scan_before_hello, "bad-frame"),
    "ping-before-hello": (_ping_before_hello, "bad-frame"),
    "second-hello": (_second_hello, "bad-frame"),
    "unsupported-version": (_unsupported_version, "unsupported-version"),
}


@pytest.mark.parametrize("case", list(CLOSING_ERRORS))
def test_broken_framing_is_answered_with_an_error_then_closed(serve, parcels, case):
    server = serve()
    send, code = CLOSING_ERRORS[case]
    with server.client() as c:
        send(c)
        # The doc: connection errors carry request id 0 or the id of the SCAN that caused them.
        expect_error(c, code, (0, 1))
        expect_closed(c, f"ERROR {code}")
    assert_serves(server, parcels[0])


def test_a_header_longer_than_max_frame_bytes_is_refused_without_reading_the_payload(serve, parcels):
    max_frame = 1 << 20
    server = serve(config={"ingest": {"maxFrameBytes": max_frame}})
    with server.client() as c:
        assert c.hello()["maxFrameBytes"] == max_frame
        # Only the header goes out: the answer must come without the 2 MiB payload.
        c.send_raw(encode_frame(SCAN, 5, length=2 << 20))
        expect_error(c, "too-large", (0, 5))
        expect_closed(c, "ERROR too-large")
    # maxFrameBytes counts the header: a payload of max - 16 bytes is accepted, one more is not.
    with server.client() as c:
        c.hello()
        c.send_raw(encode_frame(SCAN, 6, length=max_frame - 16 + 1))
        expect_error(c, "too-large", (0, 6))
        expect_closed(c, "ERROR too-large")
    with server.client() as c:
        c.hello()
        m = encode_json({"scanId": "just-fits", "profile": PROFILE})
        filler = bytes(max_frame - 16 - 4 - len(m))  # zeros: no image format
        rid = c.send_scan(m, filler)
        assert len(scan_payload(m, filler)) + 16 == max_frame
        o = c.wait(rid)
        assert o.types == ["ERROR"] and o.error["code"] == "unsupported-format", o.frames
    # A real parcel TIFF (1.5 MB) is over the limit too; a smaller good scan still goes through.
    with server.client() as c:
        c.hello()
        c.send_scan(meta(parcels[0], "too-big"), parcels[0].data, request_id=9)
        expect_error(c, "too-large", (0, 9))
        expect_closed(c, "ERROR too-large")
    small = parcels[0].path.parent / "small.tiff"
    with tifffile.TiffFile(parcels[0].path) as tif:
        pages = [pg.asarray()[:256, :256] for pg in tif.pages]
    with tifffile.TiffWriter(small) as w:
        for page in pages:
            w.write(page, photometric="minisblack")
    with server.connect() as c:
        o = c.wait(c.send_scan({"scanId": "small", "profile": PROFILE}, small.read_bytes()))
        assert o.types == ["ACK", "RESULT"], o.frames


def test_bad_metadata_is_refused_and_the_connection_kept(serve, parcels):
    server = serve()
    p = parcels[0]
    good_image = p.data
    bad = [
        ("not json", struct.pack(">I", 9) + b"not json{" + good_image),
        ("json array", scan_payload(b"[1,2]", good_image)),
        ("missing scanId", scan_payload({"profile": PROFILE}, good_image)),
        ("empty scanId", scan_payload({"scanId": "", "profile": PROFILE}, good_image)),
        ("numeric scanId", scan_payload({"scanId": 7, "profile": PROFILE}, good_image)),
        ("129-char scanId", scan_payload({"scanId": "x" * 129, "profile": PROFILE}, good_image)),
        ("metadata length beyond payload", struct.pack(">I", 10_000) + b'{"scanId":"a"}'),
        ("invalid UTF-8", scan_payload(b'{"scanId":"\xff\xfe"}', good_image)),
    ]
    with server.connect(station="gate-m") as c:
        for n, (why, payload) in enumerate(bad):
            rid = 100 + n
            c.outcomes[rid] = sc.Outcome(rid)
            c.send_frame(SCAN, rid, payload)
            o = c.wait(rid)
            assert o.types == ["ERROR"] and o.error["code"] == "bad-frame", f"{why}: {o.frames}"
            # Kept: a good scan on the same connection is answered.
            g = c.wait(c.send_scan(meta(p, f"after-{n}"), good_image))
            assert g.types == ["ACK", "RESULT"], f"after {why}: {g.frames}"
        # A request id of 0 is refused, the connection kept.
        c.send_frame(SCAN, 0, scan_payload(meta(p, "rid-0"), good_image))
        expect_error(c, "bad-frame", (0,))
        # 128 characters is still a valid scanId.
        o = c.wait(c.send_scan(meta(p, "y" * 128), good_image))
        assert o.types == ["ACK", "RESULT"], o.frames
    listed = {s["stationScanId"] for s in server.scans()}
    assert listed == {f"after-{n}" for n in range(len(bad))} | {"y" * 128}, "refused scans must not be kept"


def test_a_request_id_already_in_flight_is_refused(serve, parcels):
    server = serve("--workers", "1")
    with server.connect(station="gate-r") as c:
        # A backlog on the single worker keeps request 50 in flight while its twin arrives.
        backlog = [c.send_scan(meta(p, f"backlog-{i}"), p.data) for i, p in enumerate(parcels[:4])]
        c.send_raw(encode_frame(SCAN, 50, scan_payload(meta(parcels[5], "first"), parcels[5].data)) +
                   encode_frame(SCAN, 50, scan_payload(meta(parcels[6], "second"), parcels[6].data)))
        c.outcomes[50] = sc.Outcome(50)
        pump_many([c], lambda: all(c.outcomes[r].done for r in backlog)
                  and sum(f.type in (RESULT, ERROR) for f in c.outcomes[50].frames) >= 2, ANSWER_TIMEOUT)
    got = c.outcomes[50]
    assert sorted(got.types) == ["ACK", "ERROR", "RESULT"], got.frames
    assert got.types.index("ACK") < got.types.index("RESULT")
    assert got.error["code"] == "bad-frame"
    assert got.result["source"] == parcels[5].name, "the first SCAN with the id is the one analysed"
    assert "second" not in {s["stationScanId"] for s in server.scans()}


@pytest.mark.parametrize("case", ["unknown-profile", "random-bytes", "raw-without-layout", "raw-incomplete-layout",
                                  "raw-too-few-bytes"])
def test_unusable_scans_are_refused_and_the_connection_kept(serve, parcels, case):
    server = serve()
    p = parcels[0]
    rng = np.random.default_rng(7)
    m, image, code = {
        "unknown-profile": (meta(p, "bad-1", profile="no-such-scanner"), p.data, "unknown-profile"),
        "random-bytes": (meta(p, "bad-1"), rng.integers(0, 256, 100_000, dtype=np.uint8).tobytes(),
                         "unsupported-format"),
        "raw-without-layout": (meta(p, "bad-1", format="raw"), bytes(2 * 64 * 64), "unsupported-format"),
        # The doc: "`raw` without a valid layout" is unsupported-format.
        "raw-incomplete-layout": (meta(p, "bad-1", format="raw", raw={"width": 64}), bytes(2 * 64 * 64),
                                  "unsupported-format"),
        "raw-too-few-bytes": (meta(p, "bad-1", format="raw", raw={"width": 64, "height": 64, "channels": 2,
                                   "frames": 1, "sample": "uint16", "byteOrder": "little", "bitsStored": 16}),
                              bytes(100), "unsupported-format"),
    }[case]
    with server.connect(station="gate-u") as c:
        o = c.wait(c.send_scan(m, image))
        assert o.types == ["ERROR"] and o.error["code"] == code, o.frames
        g = c.wait(c.send_scan(meta(p, "good-1"), p.data))
        assert g.types == ["ACK", "RESULT"], g.frames
    assert [s["stationScanId"] for s in server.scans()] == ["good-1"]
    assert metric(server.metrics(), "vigil_scans_rejected_total", cause=code) == 1


def test_an_accepted_image_that_cannot_be_analysed_gets_a_result_with_verdict_error(serve, parcels):
    server = serve()
    p = parcels[0]
    with server.connect(station="gate-e") as c:
        # A TIFF cut short: recognised as TIFF (so accepted), its pixel data is missing.
        o = c.wait(c.send_scan(meta(p, "cut-tiff"), p.data[:5000]))
    assert o.types == ["ACK", "RESULT"], o.frames
    r = o.result
    assert r["verdict"] == "error" and isinstance(r.get("error"), str) and r["error"], r
    assert r["scanId"] == o.ack["scanId"] and r["findings"] == []
    assert server.get_json(f"/api/scans/{r['scanId']}") == (200, r)
    assert metric(server.metrics(), "vigil_scans_processed_total", verdict="error") == 1


@pytest.mark.parametrize("cut", ["mid-payload", "mid-header"])
def test_a_truncated_frame_then_close_leaves_nothing_behind(serve, parcels, cut):
    server = serve()
    p = parcels[0]
    frame = encode_frame(SCAN, 1, scan_payload(meta(p, "cut-1"), p.data))
    with server.connect(station="gate-c") as c:
        c.send_raw(frame[:len(frame) // 2] if cut == "mid-payload" else frame[:9])
    assert_serves(server, p)
    assert "cut-1" not in {s["stationScanId"] for s in server.scans()}
    assert server.running()


def test_ping_is_answered_with_pong_carrying_the_same_payload(serve, parcels):
    server = serve()
    with server.connect() as c:
        for payload in (b"", b"hello", bytes(range(64)), b"\xff" * 64):
            pong = c.ping(payload)
            assert (pong.payload, pong.request_id) == (payload, 0)
        # A PING among scans in flight is answered too; the scans are unaffected.
        rids = [c.send_scan(meta(p, f"ping-{i}"), p.data) for i, p in enumerate(parcels[:3])]
        c.send_frame(PING, 0, b"in flight")
        outcomes = c.wait_all()
        assert all(o.types == ["ACK", "RESULT"] for o in outcomes.values())
        if not any(f.type == PONG for f in c.connection_frames):
            c.pump()
        pongs = [f for f in c.connection_frames if f.type == PONG]
        assert [f.payload for f in pongs] == [b"in flight"], c.connection_frames


def test_a_ping_over_64_bytes_is_a_bad_frame_and_the_connection_kept(serve, parcels):
    server = serve()
    with server.connect() as c:
        c.send_frame(PING, 9, b"x" * 65)
        expect_error(c, "bad-frame", request_ids=(9,))
        assert c.ping(b"still here").payload == b"still here"


def test_an_idle_connection_gets_idle_timeout_then_is_closed(serve, parcels):
    server = serve(config={"ingest": {"idleTimeoutSeconds": 2, "heartbeatSeconds": 1}})
    silent = server.client(timeout=30)
    welcome = silent.hello()
    assert (welcome["idleTimeoutSeconds"], welcome["heartbeatSeconds"]) == (2, 1)
    never_said_hello = server.client(timeout=30)
    with server.connect() as alive:
        # A station that sends PING every heartbeat is never idle.
        until = time.monotonic() + 5
        while time.monotonic() < until:
            assert alive.ping(b"hb", timeout=10).payload == b"hb"
            time.sleep(welcome["heartbeatSeconds"] / 2)  # the heartbeat period itself, not a wait for state
        with silent:
            expect_error(silent, "idle-timeout")
            expect_closed(silent, "ERROR idle-timeout")
        with never_said_hello:
            expect_error(never_said_hello, "idle-timeout")
            expect_closed(never_said_hello, "ERROR idle-timeout")
        o = alive.wait(alive.send_scan(meta(parcels[0], "after-heartbeats"), parcels[0].data))
        assert o.types == ["ACK", "RESULT"], o.frames


# --------------------------------------------------------------------------------------------
# Load, crash, shutdown


def push_burst(server: Server, parcels: list[Parcel], connections: int, per_connection: int,
               prefix: str) -> tuple[list[StationClient], dict[tuple[int, int], tuple[str, str, Parcel]]]:
    """Sends connections x per_connection scans without reading; returns the clients and, per
    (client index, request id), the (station, scanId, parcel) sent."""
    clients = [server.connect(station=f"{prefix}-gate-{k}") for k in range(connections)]
    sent = {}
    for i in range(per_connection):
        for k, c in enumerate(clients):
            p = parcels[(k * per_connection + i) % len(parcels)]
            scan_id = f"{prefix}-{k}-{i}"
            rid = c.send_scan(meta(p, scan_id, site=prefix), p.data)
            sent[(k, rid)] = (f"{prefix}-gate-{k}", scan_id, p)
    return clients, sent


def test_a_full_queue_answers_busy_and_every_acked_scan_gets_its_result(serve, parcels):
    server = serve("--queue-capacity", "1", "--workers", "1")
    clients, sent = push_burst(server, parcels, connections=4, per_connection=6, prefix="busy")
    try:
        pump_many(clients, lambda: all(clients[k].outcomes[r].done for k, r in sent), ANSWER_TIMEOUT)
    finally:
        for c in clients:
            c.close()
    busy, acked = [], []
    for (k, rid), (station, scan_id, p) in sent.items():
        o = clients[k].outcomes[rid]
        if o.types == ["ERROR"]:
            assert o.error["code"] == "busy", o.frames
            busy.append((station, scan_id, p))
        else:
            assert o.types == ["ACK", "RESULT"], f"{scan_id}: {o.frames}"
            assert o.result["verdict"] in ("clear", "alarm")
            acked.append(scan_id)
    assert busy, "24 scans at once against a queue of 1 and one worker: some must be refused busy"
    assert acked, "some scans must be accepted"
    assert metric(server.metrics(), "vigil_scans_rejected_total", cause="busy") == len(busy)
    # busy means "retry later": each refused scan is accepted when sent again on its own.
    for station, scan_id, p in busy:
        o = sc.push_one(HOST, server.ingest_port, meta(p, scan_id, site="busy"), p.data, station=station,
                        timeout=ANSWER_TIMEOUT)
        assert o.types == ["ACK", "RESULT"] and o.ack["duplicate"] is False, f"retry of {scan_id}: {o.frames}"
    assert len(server.scans("site=busy")) == len(sent)


def test_a_connection_over_max_in_flight_is_told_busy(serve, parcels):
    server = serve("--workers", "1", config={"ingest": {"maxInFlight": 2}})
    with server.client() as c:
        assert c.hello(station="gate-f")["maxInFlight"] == 2
        rids = [c.send_scan(meta(p, f"mif-{i}"), p.data) for i, p in enumerate(parcels[:10])]
        outcomes = c.wait_all()
    kinds = [o.types for o in outcomes.values()]
    assert all(t in (["ACK", "RESULT"], ["ERROR"]) for t in kinds), kinds
    assert all(o.error["code"] == "busy" for o in outcomes.values() if o.error), kinds
    assert ["ERROR"] in kinds and ["ACK", "RESULT"] in kinds, kinds
    assert len(rids) == 10


def test_acked_scans_survive_kill_9_and_are_processed_exactly_once(serve, parcels, tmp_path):
    data = tmp_path / "crash-data"
    server = serve("--workers", "1", data=data)
    clients, sent = push_burst(server, parcels, connections=3, per_connection=10, prefix="crash")
    # Wait until every SCAN is ACKed (or refused), then kill while results are still pending.
    pump_many(clients, lambda: all(clients[k].outcomes[r].ack or clients[k].outcomes[r].error
                                   for k, r in sent), ANSWER_TIMEOUT)
    pending_before_kill = [key for key in sent if clients[key[0]].outcomes[key[1]].result is None]
    server.kill9()
    for c in clients:  # RESULTs already on the wire before the kill still count as delivered
        try:
            c.read_until_closed(timeout=10)
        except (ConnectionClosed, TimeoutError):
            pass
        c.close()
    acked = {}
    for (k, rid), (station, scan_id, p) in sent.items():
        o = clients[k].outcomes[rid]
        if o.ack:
            acked[(station, scan_id)] = (o.ack["scanId"], o.result, p)
        else:
            assert o.error and o.error["code"] == "busy", o.frames
    assert acked, "no scan was acknowledged"
    assert pending_before_kill, "every result arrived before the kill: the test proves nothing (more scans?)"
    assert any(r is None for _, r, _ in acked.values()), "every ACKed scan got its RESULT before the kill"

    restarted = serve("--workers", "1", data=data)
    deadline = time.monotonic() + ANSWER_TIMEOUT
    stored = {}
    for key, (vid, before, p) in acked.items():
        while True:
            status, doc = restarted.get_json(f"/api/scans/{vid}")
            if status == 200:
                break
            assert status == 202 and doc == {"scanId": vid, "status": "pending"}, (key, status, doc)
            assert time.monotonic() < deadline, f"{key} (ACKed as {vid}) never got a result after restart"
            time.sleep(0.1)
        assert doc["scanId"] == vid and doc["verdict"] in ("clear", "alarm"), doc
        if before is not None:
            assert doc == before, f"{key}: the result after restart differs from the RESULT sent before"
        stored[key] = doc
    # Re-sending every ACKed scan: duplicate, same id, the stored result.
    with restarted.client() as c:
        c.hello()
        rids = {c.send_scan(meta(p, scan_id, site="crash", station=station), p.data): (station, scan_id)
                for (station, scan_id), (_, _, p) in acked.items()}
        outcomes = c.wait_all()
    for rid, key in rids.items():
        o = outcomes[rid]
        assert o.types == ["ACK", "RESULT"], f"{key}: {o.frames}"
        assert o.ack == {"scanId": acked[key][0], "duplicate": True}, key
        assert o.result == stored[key], key
    listed = [(s["station"], s["stationScanId"]) for s in restarted.scans("site=crash&limit=10000")]
    assert len(listed) == len(set(listed)), f"a station scan stored twice: {sorted(listed)}"
    assert set(acked) <= set(listed)
    assert all(s["verdict"] in ("clear", "alarm") for s in restarted.scans("site=crash&limit=10000"))


def test_sigterm_sends_every_pending_result_then_exits_0(serve, parcels):
    server = serve("--workers", "1")
    server.token(server.ADMIN)  # signed in beforehand, so the API answers while scans still wait
    clients, sent = push_burst(server, parcels, connections=2, per_connection=8, prefix="term")
    pump_many(clients, lambda: all(clients[k].outcomes[r].ack or clients[k].outcomes[r].error
                                   for k, r in sent), ANSWER_TIMEOUT)
    pending = [(k, r) for k, r in sent if clients[k].outcomes[r].ack and clients[k].outcomes[r].result is None]
    assert pending, "every result arrived before SIGTERM: the test proves nothing"
    # While waiting, the HTTP API reports the scan as pending.
    k, r = pending[-1]
    vid = clients[k].outcomes[r].ack["scanId"]
    status, doc = server.get_json(f"/api/scans/{vid}")
    assert (status, doc) == (202, {"scanId": vid, "status": "pending"})

    os.kill(server.pid, signal.SIGTERM)
    # The signal is handled asynchronously: scans sent right after it may still be accepted (and
    # must then be answered). Send one at a time until one is refused with shutting-down; the
    # connection stays open meanwhile because its earlier results are still owed.
    k0 = pending[0][0]
    c0 = clients[k0]
    late = []
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "no scan was refused with shutting-down within 30 s of SIGTERM"
        rid = c0.send_scan(meta(parcels[0], f"late-{len(late)}", site="term"), parcels[0].data)
        late.append(rid)
        pump_many([c0], lambda: bool(c0.outcomes[rid].ack or c0.outcomes[rid].error), ANSWER_TIMEOUT)
        if c0.outcomes[rid].error:
            break
    for c in clients:
        c.read_until_closed(timeout=ANSWER_TIMEOUT)
        c.close()
    assert server.proc.wait(STOP_TIMEOUT) == 0, server.stderr()
    refused = c0.outcomes[late[-1]]
    assert refused.types == ["ERROR"] and refused.error["code"] == "shutting-down", refused.frames
    for rid in late[:-1]:
        assert c0.outcomes[rid].types == ["ACK", "RESULT"], c0.outcomes[rid].frames
    for (k, r), (_, scan_id, _) in sent.items():
        o = clients[k].outcomes[r]
        if o.ack:
            assert o.types == ["ACK", "RESULT"], f"{scan_id} was ACKed but its RESULT never came: {o.frames}"


# --------------------------------------------------------------------------------------------
# HTTP API


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_http_api_lists_filters_and_serves_results_images_and_counts(serve, parcels):
    server = serve()
    chosen = mixed(parcels, 8)
    results = []  # in push order, one at a time so that "newest first" is well defined
    with server.connect(station="gate-h") as c:
        for i, p in enumerate(chosen):
            o = c.wait(c.send_scan(meta(p, f"http-{i}", site="site-a" if i % 2 == 0 else "site-b"), p.data))
            assert o.types == ["ACK", "RESULT"], o.frames
            results.append(o.result)
        refused = [c.wait(c.send_scan(meta(chosen[0], "nope-1", profile="no-such-scanner"), chosen[0].data)),
                   c.wait(c.send_scan(meta(chosen[0], "nope-2"), b"definitely not an image"))]
    assert [o.error["code"] for o in refused] == ["unknown-profile", "unsupported-format"]
    ids = [r["scanId"] for r in results]
    verdicts = [r["verdict"] for r in results]
    assert "alarm" in verdicts and "clear" in verdicts, verdicts

    listing = server.scans()
    assert [s["scanId"] for s in listing] == ids[::-1], "the list is newest first"
    for s, r, i in zip(listing[::-1], results, range(len(results))):
        assert (s["station"], s["stationScanId"], s["site"], s["profile"], s["source"], s["via"]) == \
            ("gate-h", f"http-{i}", r["site"], PROFILE, chosen[i].name, "native")
        assert s["verdict"] == r["verdict"] and s["findings"] == len(r["findings"])
        assert parse_time(s["receivedAt"]) <= parse_time(s["completedAt"])
    assert [s["scanId"] for s in server.scans("site=site-a")] == ids[0::2][::-1]
    assert [s["scanId"] for s in server.scans("verdict=alarm")] == [i for i, v in zip(ids, verdicts) if v == "alarm"][::-1]
    assert [s["scanId"] for s in server.scans("verdict=clear&site=site-b")] == \
        [i for n, (i, v) in enumerate(zip(ids, verdicts)) if v == "clear" and n % 2 == 1][::-1]
    assert [s["scanId"] for s in server.scans("limit=3")] == ids[::-1][:3]
    # since: a time strictly between the 4th and 5th scans' arrival (inclusive/exclusive does not matter)
    t4, t5 = (parse_time(listing[::-1][n]["receivedAt"]) for n in (3, 4))
    assert t4 < t5
    since = iso(t4 + (t5 - t4) / 2) if (t5 - t4) >= timedelta(milliseconds=2) else listing[::-1][4]["receivedAt"]
    assert [s["scanId"] for s in server.scans(f"since={since}")] == ids[4:][::-1]
    for query in ("verdict=maybe", "limit=0", "since=yesterday"):
        status, doc = server.get_json(f"/api/scans?{query}")
        assert status == 400 and "error" in doc, (query, status, doc)

    for r in results:
        assert server.get_json(f"/api/scans/{r['scanId']}") == (200, r)
    assert server.get_json("/api/scans/no-such-scan")[0] == 404
    status, headers, body = server.http(f"/api/scans/{ids[0]}/image.png")
    assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(body)) as png:
        assert png.format == "PNG" and png.mode == "L"  # windowed 8-bit grey
        assert png.size == (results[0]["image"]["width"], results[0]["image"]["height"])
    assert server.http("/api/scans/no-such-scan/image.png")[0] == 404

    status, health = server.get_json("/healthz")
    assert status == 200
    assert health == {"status": "ok", "queueDepth": 0, "scans": len(results), "pending": 0}
    m = server.metrics()
    assert metric(m, "vigil_scans_received_total") == len(results)
    for v in ("clear", "alarm"):
        assert metric(m, "vigil_scans_processed_total", verdict=v) == verdicts.count(v)
    assert metric(m, "vigil_scans_rejected_total", cause="unknown-profile") == 1
    assert metric(m, "vigil_scans_rejected_total", cause="unsupported-format") == 1
    assert metric(m, "vigil_stage_seconds_count", stage="inference") == len(results)
    assert metric(m, "vigil_model_inference_seconds_count") == len(results)


def test_the_queue_depth_gauge_returns_to_0_when_the_queue_is_empty(serve, parcels):
    server = serve()
    with server.connect(station="gate-q") as c:
        # One scan at a time: once its RESULT is back, nothing is queued.
        for i in range(16):
            p = parcels[i % len(parcels)]
            o = c.wait(c.send_scan(meta(p, f"q-{i}"), p.data))
            assert o.types == ["ACK", "RESULT"], o.frames
            assert server.get_json("/healthz")[1]["queueDepth"] == 0
            deadline = time.monotonic() + 5
            while (depth := metric(server.metrics(), "vigil_queue_depth")) != 0:
                assert time.monotonic() < deadline, \
                    f"after scan {i}: vigil_queue_depth stays {depth} with an empty queue (/healthz says 0)"
                time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# Mutated frames


def small_tiff(p: Parcel) -> bytes:
    with tifffile.TiffFile(p.path) as tif:
        pages = [pg.asarray()[:96, :96] for pg in tif.pages]
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as w:
        for page in pages:
            w.write(page, photometric="minisblack")
    return buf.getvalue()


def mutate(rng: random.Random, frame: bytes) -> bytes:
    b = bytearray(frame)
    how = rng.randrange(7)
    if how == 0:  # flip bits in the header
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(16)] ^= 1 << rng.randrange(8)
    elif how == 1:  # random bytes anywhere
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif how == 2:  # a wrong length
        struct.pack_into(">I", b, 12, rng.choice([0, 1, len(b) - 17, len(b) - 15, rng.randrange(1 << 32)]))
    elif how == 3:  # truncated
        del b[rng.randrange(1, len(b)):]
    elif how == 4 and len(b) > 20:  # a wrong metadata length
        struct.pack_into(">I", b, 16, rng.choice([0, 1, 0xFFFFFFFF, rng.randrange(len(b))]))
    elif how == 5:  # another frame type
        b[4] = rng.randrange(256)
    else:  # garbage appended
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return bytes(b)


def test_mutated_frames_do_not_break_the_server(serve, parcels):
    server = serve()
    rng = random.Random(20261122)
    tiff = small_tiff(parcels[0])
    pixels = np.frombuffer(tiff[-2 * 96 * 96:], dtype="<u2")  # any 2 x 96 x 96 samples will do
    raw_meta = {"scanId": "fz", "profile": PROFILE, "format": "raw",
                "raw": {"width": 96, "height": 96, "channels": 2, "frames": 1, "sample": "uint16",
                        "byteOrder": "little", "bitsStored": 16}}
    hello = encode_frame(HELLO, 0, encode_json({"versions": [1], "station": "fuzz"}))
    valid = [
        encode_frame(SCAN, 1, scan_payload({"scanId": "fz", "profile": PROFILE}, tiff)),
        encode_frame(SCAN, 2, scan_payload(raw_meta, pixels.tobytes())),
        encode_frame(PING, 0, b"fuzz"),
        hello,
    ]
    seen: dict[str, int] = {}
    for n in range(300):
        frames = [mutate(rng, hello) if rng.random() < 0.15 else hello]
        frames += [mutate(rng, rng.choice(valid)) for _ in range(rng.randint(1, 3))]
        # A final good PING marks the end: once its PONG (or EOF) is back, the server has dealt
        # with everything before it. Answers are read with the connection open (a half-close
        # drops them).
        marker = f"end-{n}".encode()
        with server.client(timeout=5) as c:
            try:
                c.send_raw(b"".join(frames) + encode_frame(PING, 0, marker))
            except OSError:
                pass  # the server may already have closed (or reset) on a broken header
            got = []
            try:
                try:
                    while (frame := c.read_frame(0.5)) is not None:
                        got.append(frame)
                        if frame.type == PONG and frame.payload == marker:
                            break
                except TimeoutError:
                    # A mutated length left the server waiting for payload bytes (the marker among
                    # them): close our side and read what remains.
                    c.sock.shutdown(socket.SHUT_WR)
                    got += c.read_until_closed(timeout=10)
            except (ConnectionClosed, ConnectionResetError):
                pass
            # Whatever comes back must be well-formed frames of the protocol.
            for frame in got:
                assert frame.type in (WELCOME, ACK, RESULT, ERROR, PONG), f"case {n}: {frame!r}"
                if frame.type == ERROR:
                    assert frame.json()["code"] in ERROR_CODES, f"case {n}: {frame!r}"
                    key = "ERROR:" + frame.json()["code"]
                else:
                    if frame.type != PONG:
                        frame.json()
                    key = frame.name
                seen[key] = seen.get(key, 0) + 1
        assert server.running(), f"vigil serve died on mutated case {n}\n{server.stderr()}"
    # The mutations must reach past the handshake: some scans accepted, some refused.
    assert seen.get("ACK") and seen.get("ERROR:bad-frame"), seen
    assert server.get_json("/healthz")[1]["status"] == "ok"
    assert_serves(server, parcels[0])


@pytest.mark.parametrize("flag,name", [("--ingest-port", "ingest port"), ("--dicom-port", "DICOM"), ("--http-port", "http port")])
def test_a_port_in_use_is_one_line_and_exit_1(tmp_path, flag, name):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = [str(VIGIL), "serve", "--data", str(tmp_path / "data"), "--ingest-port", "0", "--http-port", "0", "--dicom-port", "0",
                *map(str, RESOURCES)]
        argv[argv.index(flag) + 1] = str(port)
        run = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("vigil: ") and name in last and f"{HOST}:{port}" in last and "address already in use" in last, last


def test_push_to_a_closed_port_is_one_line_and_exit_1():
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        run = subprocess.run([str(VIGIL), "push", str(REPO / "ScannerProfiles/samples/parcel-de-160kv.tiff"), "--to", f"{HOST}:{port}"],
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip() == f"vigil: {HOST}:{port}: cannot connect: connection refused"


# --------------------------------------------------------------------------------------------
# Paired scans: the same truck at two ports


@pytest.fixture(scope="session")
def cargo_pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cargo-pairs")
    run = vigil("synth", "--kind", "cargo-pair", "--count", "5", "--seed", "902", "--out", out,
                "--profiles", REPO / "ScannerProfiles", timeout=300)
    assert run.returncode == 0, run.describe()
    return out, {e["file"]: e for e in json.loads((out / "labels.json").read_text())["scans"]}


def overlaps(box: dict, truth: dict) -> bool:
    return (box["x"] < truth["x"] + truth["width"] and truth["x"] < box["x"] + box["width"]
            and box["y"] < truth["y"] + truth["height"] and truth["y"] < box["y"] + box["height"])


def test_a_keyed_scan_seen_at_another_site_is_cross_checked(serve, cargo_pairs):
    out, labels = cargo_pairs
    server = serve(config={"pairing": {"retentionDays": 7}})
    firsts = [e for name, e in sorted(labels.items()) if name.endswith("-a.tiff")]
    changed = next(e for e in firsts if any(o.get("massThickness", 0) >= 8 and o["label"] == "added" for o in e["objects"]))
    unchanged = next(e for e in firsts if not e["objects"])
    for a in (changed, unchanged):
        b = labels[a["pairOf"]]
        key = f"TRUCK-{a['file'][5:9]}"
        results = []
        for entry, site in ((a, "PORT-A"), (b, "PORT-B")):
            with server.connect(station=site.lower()) as c:
                rid = c.send_scan({"scanId": entry["file"], "profile": entry["profile"], "site": site, "pairKey": key,
                                   "source": entry["file"]}, (out / entry["file"]).read_bytes())
                o = c.wait(rid)
            assert o.types == ["ACK", "RESULT"], f"{o.frames}\n{server.stderr()}"
            results.append(o.result)
        first, second = results
        # The first sight of a key has nothing to be compared with.
        assert not [f for f in first["findings"] if f["kind"] == "paired-difference"], first
        paired = [f for f in second["findings"] if f["kind"] == "paired-difference"]
        if a is unchanged:
            assert paired == [], second
            continue
        truth = b["objects"][0]
        assert second["verdict"] == "alarm", second
        assert any(f["label"] == "added" and overlaps(f["box"], truth["box"]) and overlaps(f["otherBox"], truth["otherBox"])
                   and f["pairedScanId"] == first["scanId"] for f in paired), (paired, truth)
        assert "crosscheck" in second["timingsMs"]
    # What later comparisons need is kept, one file per keyed scan.
    assert len(list((server.data / "pairing").glob("*.att"))) == 4


def test_scans_of_one_key_at_one_site_are_not_cross_checked(serve, cargo_pairs):
    out, labels = cargo_pairs
    server = serve()
    a = labels["pair-0001-a.tiff"]
    for scan_id in ("first", "second"):
        with server.connect(station="port-a") as c:
            rid = c.send_scan({"scanId": scan_id, "profile": a["profile"], "site": "PORT-A", "pairKey": "TRUCK-X",
                               "source": a["file"]}, (out / a["file"]).read_bytes())
            o = c.wait(rid)
        assert o.types == ["ACK", "RESULT"] and "crosscheck" in o.result["timingsMs"], o.frames
        assert not [f for f in o.result["findings"] if f["kind"] == "paired-difference"], o.result
