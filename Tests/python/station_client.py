"""A small synchronous station client for Vigil's native ingest protocol (docs/protocol.md).

Written from docs/protocol.md alone, to show that the document is a complete contract.

    with StationClient("127.0.0.1", port) as c:
        welcome = c.hello(station="gate-3")
        rid = c.send_scan({"scanId": "A1", "profile": "parcel-de-160kv"}, image_bytes)
        outcome = c.wait(rid)           # ACK then RESULT, or ERROR
        print(outcome.result["verdict"])

Several scans may be in flight: send them all, then `wait_all`. Frames are read as they come and
filed by request id, so answers can arrive in any order. Frames about the connection itself
(request id 0: WELCOME, connection ERRORs, PONGs) go to `connection_frames`.

For tests that must send malformed bytes: `encode_frame` builds any header (any magic, type,
length) and `StationClient.send_raw` writes bytes as they are.
"""
from __future__ import annotations

import json
import select
import socket
import struct
import time
from dataclasses import dataclass, field

MAGIC = b"VIGL"
HEADER = struct.Struct(">4sBBHII")  # magic, type, flags, reserved, request id, length
HEADER_SIZE = HEADER.size  # 16

HELLO, WELCOME, SCAN, ACK, RESULT, ERROR, PING, PONG = range(1, 9)
TYPE_NAMES = {HELLO: "HELLO", WELCOME: "WELCOME", SCAN: "SCAN", ACK: "ACK", RESULT: "RESULT",
              ERROR: "ERROR", PING: "PING", PONG: "PONG"}
# Frames that carry JSON payloads (PING/PONG carry arbitrary bytes).
JSON_TYPES = {HELLO, WELCOME, ACK, RESULT, ERROR}


class ProtocolError(Exception):
    """The server sent something the protocol does not allow (bad magic, unexpected frame...)."""


class ConnectionClosed(Exception):
    """The server closed the connection (EOF), possibly in the middle of a frame."""


@dataclass
class Frame:
    type: int
    request_id: int
    payload: bytes
    flags: int = 0

    @property
    def name(self) -> str:
        return TYPE_NAMES.get(self.type, f"type-{self.type}")

    def json(self) -> dict:
        return json.loads(self.payload.decode("utf-8"))

    def __repr__(self) -> str:
        body = self.payload[:300]
        return f"Frame({self.name}, id={self.request_id}, {len(self.payload)} bytes: {body!r})"


@dataclass
class Outcome:
    """Everything received for one SCAN's request id, in arrival order."""
    request_id: int
    frames: list[Frame] = field(default_factory=list)

    def _first(self, kind: int) -> Frame | None:
        return next((f for f in self.frames if f.type == kind), None)

    @property
    def ack(self) -> dict | None:
        f = self._first(ACK)
        return f.json() if f else None

    @property
    def result(self) -> dict | None:
        f = self._first(RESULT)
        return f.json() if f else None

    @property
    def error(self) -> dict | None:
        f = self._first(ERROR)
        return f.json() if f else None

    @property
    def done(self) -> bool:
        """A scan is answered by RESULT (after ACK) or by ERROR (instead of ACK)."""
        return any(f.type in (RESULT, ERROR) for f in self.frames)

    @property
    def types(self) -> list[str]:
        return [f.name for f in self.frames]


def encode_frame(type_: int, request_id: int, payload: bytes = b"", *, flags: int = 0,
                 magic: bytes = MAGIC, length: int | None = None) -> bytes:
    """A frame's bytes; `magic` and `length` can be overridden to build malformed frames."""
    n = len(payload) if length is None else length
    return HEADER.pack(magic, type_, flags, 0, request_id, n) + payload


def encode_json(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def scan_payload(metadata: dict | bytes, image: bytes) -> bytes:
    """SCAN payload: 4-byte metadata length, the metadata JSON, then the image bytes."""
    meta = metadata if isinstance(metadata, bytes) else encode_json(metadata)
    return struct.pack(">I", len(meta)) + meta + image


def decode_header(header: bytes) -> tuple[bytes, int, int, int, int]:
    """(magic, type, flags, request id, length)."""
    magic, type_, flags, _reserved, request_id, length = HEADER.unpack(header)
    return magic, type_, flags, request_id, length


class StationClient:
    def __init__(self, host: str, port: int, *, timeout: float = 30.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = bytearray()
        self._next_id = 1
        self.outcomes: dict[int, Outcome] = {}
        self.connection_frames: list[Frame] = []  # request id 0 (or ids no SCAN of ours used)
        self.welcome: dict | None = None
        self.closed = False  # set once EOF was read

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> "StationClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- writing ---------------------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, type_: int, request_id: int, payload: bytes = b"") -> None:
        self.sock.sendall(encode_frame(type_, request_id, payload))

    def hello(self, versions: list[int] = (1,), station: str | None = None,
              client: str = "vigil-tests/station_client.py", **extra) -> dict:
        """Sends HELLO and returns WELCOME's JSON; raises ProtocolError on an ERROR answer."""
        body = {"versions": list(versions), "client": client, **extra}
        if station is not None:
            body["station"] = station
        self.send_frame(HELLO, 0, encode_json(body))
        frame = self.read_frame()
        if frame is None:
            raise ConnectionClosed("connection closed instead of WELCOME")
        if frame.type == ERROR:
            raise ProtocolError(f"HELLO refused: {frame.json()}")
        if frame.type != WELCOME:
            raise ProtocolError(f"expected WELCOME, got {frame!r}")
        self.welcome = frame.json()
        return self.welcome

    def new_request_id(self) -> int:
        rid = self._next_id
        self._next_id += 1
        return rid

    def send_scan(self, metadata: dict | bytes, image: bytes, request_id: int | None = None) -> int:
        """Sends one SCAN and returns its request id (a fresh one unless given)."""
        rid = self.new_request_id() if request_id is None else request_id
        self.outcomes.setdefault(rid, Outcome(rid))
        self.send_frame(SCAN, rid, scan_payload(metadata, image))
        return rid

    def ping(self, payload: bytes = b"", timeout: float | None = None) -> Frame:
        """Sends PING (request id 0) and returns the next PONG (other frames are filed)."""
        self.send_frame(PING, 0, payload)
        deadline = time.monotonic() + (timeout or self.timeout)
        seen = len(self.connection_frames)
        while True:
            for f in self.connection_frames[seen:]:
                if f.type == PONG:
                    self.connection_frames.remove(f)
                    return f
            seen = len(self.connection_frames)
            frame = self.read_frame(deadline - time.monotonic())
            if frame is None:
                raise ConnectionClosed("connection closed before PONG")
            self._file(frame)

    # -- reading ---------------------------------------------------------------------------
    def _recv_exact(self, n: int, deadline: float) -> bytes | None:
        """n bytes, or None on a clean EOF before the first byte; ConnectionClosed mid-way."""
        while len(self._buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no frame within the timeout ({len(self._buffer)} of {n} bytes)")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(max(65536, n - len(self._buffer)))
            except socket.timeout as e:
                raise TimeoutError(f"no frame within the timeout ({len(self._buffer)} of {n} bytes)") from e
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                if not self._buffer:
                    return None
                raise ConnectionClosed(f"EOF after {len(self._buffer)} of {n} bytes")
            self._buffer += chunk
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def read_frame(self, timeout: float | None = None) -> Frame | None:
        """The next frame, or None when the server closed the connection between frames."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        header = self._recv_exact(HEADER_SIZE, deadline)
        if header is None:
            return None
        magic, type_, flags, request_id, length = decode_header(header)
        if magic != MAGIC:
            raise ProtocolError(f"bad magic {magic!r} from the server")
        payload = self._recv_exact(length, deadline) if length else b""
        if payload is None:
            raise ConnectionClosed("EOF between a header and its payload")
        return Frame(type_, request_id, payload, flags)

    def _file(self, frame: Frame) -> None:
        if frame.request_id in self.outcomes:
            self.outcomes[frame.request_id].frames.append(frame)
        else:
            self.connection_frames.append(frame)

    def has_buffered_frame(self) -> bool:
        """A whole frame is already read from the socket (select() would not report it)."""
        if len(self._buffer) < HEADER_SIZE:
            return False
        return len(self._buffer) >= HEADER_SIZE + decode_header(bytes(self._buffer[:HEADER_SIZE]))[4]

    def pump(self, timeout: float | None = None) -> Frame | None:
        """Reads one frame and files it; None on EOF."""
        frame = self.read_frame(timeout)
        if frame is not None:
            self._file(frame)
        return frame

    def wait_all(self, request_ids: list[int] | None = None, timeout: float | None = None) -> dict[int, Outcome]:
        """Reads until every given scan (default: all sent) has a RESULT or an ERROR.

        Raises ConnectionClosed if the server closes first, TimeoutError after the timeout.
        """
        ids = list(self.outcomes) if request_ids is None else list(request_ids)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not all(self.outcomes[i].done for i in ids):
            if self.pump(deadline - time.monotonic()) is None:
                missing = [i for i in ids if not self.outcomes[i].done]
                raise ConnectionClosed(f"closed before answers to request ids {missing}")
        return {i: self.outcomes[i] for i in ids}

    def wait(self, request_id: int, timeout: float | None = None) -> Outcome:
        return self.wait_all([request_id], timeout)[request_id]

    def read_until_closed(self, timeout: float | None = None) -> list[Frame]:
        """Files every frame until EOF and returns them; TimeoutError if the server keeps it open."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        frames = []
        while (frame := self.pump(deadline - time.monotonic())) is not None:
            frames.append(frame)
        return frames


def push_one(host: str, port: int, metadata: dict, image: bytes, *, station: str | None = None,
             timeout: float = 60.0) -> Outcome:
    """Connect, HELLO, one SCAN, wait for its answer, close."""
    with StationClient(host, port, timeout=timeout) as c:
        c.hello(station=station)
        rid = c.send_scan(metadata, image)
        return c.wait(rid)


def pump_many(clients: list[StationClient], until, timeout: float) -> None:
    """Reads from whichever connections have data until `until()` is true.

    Connections that reach EOF are dropped; ConnectionClosed when all are closed first,
    TimeoutError after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    live = [c for c in clients if not c.closed]
    while not until():
        if not live:
            raise ConnectionClosed("every connection closed before the condition held")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("condition not reached within the timeout")
        ready = [c for c in live if c.has_buffered_frame()]
        if not ready:
            readable, _, _ = select.select([c.sock for c in live], [], [], remaining)
            ready = [c for c in live if c.sock in readable]
        for c in ready:
            if c.pump(max(0.0, deadline - time.monotonic())) is None:
                live.remove(c)
