"""Driving the `vigil` binary and checking what it answers (the CLI contract of DESIGN.md).

Every run is measured: exit status (a signal is a crash), wall time (a timeout is a hang) and the
vigil process's own peak RSS (through GNU time, so the test runner's memory does not count).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
VIGIL = Path(os.environ.get("VIGIL_BIN", REPO / ".build/debug/vigil"))
if not VIGIL.is_absolute():
    VIGIL = (REPO / VIGIL).resolve()

TIMEOUT_S = 30.0
TIME = "/usr/bin/time"  # GNU time (Debian package `time`), for vigil's own peak RSS
# Peak RSS allowed for a vigil process that was handed a hostile header.
RSS_LIMIT_MB = 300

ERROR_CAUSES = ("cannot read:", "unknown image format", "corrupt:", "truncated:", "unsupported:",
                "too large:", "no pixel data", "cannot write:")
INFO_KEYS = {"width", "height", "frames", "channels", "channelRoles", "bitsStored", "sampleFormat",
             "modality", "photometric", "transferSyntax", "format", "compression", "sopClassUID",
             "sopInstanceUID", "station", "pixelPitchMM"}


@dataclass
class Run:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float
    seconds: float

    def describe(self) -> str:
        return (f"$ {' '.join(self.argv)}\nexit {self.returncode} after {self.seconds:.2f}s, "
                f"peak RSS {self.max_rss_mb:.0f} MB\nstdout: {self.stdout[:2000]!r}\n"
                f"stderr: {self.stderr[:2000]!r}")


def vigil(*args: str | os.PathLike, timeout: float = TIMEOUT_S) -> Run:
    """Runs vigil; fails the test on a crash (signal) or a hang (timeout).

    vigil is started by GNU time, which reports the peak RSS of vigil alone: a process forked
    from pytest would carry pytest's own high-water mark across exec.
    """
    argv = [str(VIGIL), *map(str, args)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r", suffix=".time") as measured:
        start = time.monotonic()
        proc = subprocess.Popen([TIME, "-f", "%M", "-o", measured.name, *argv], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout)
            hung = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            hung = True
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        report = measured.read().split()
        rss_kb = int(report[-1]) if report and report[-1].isdigit() else 0
        run = Run(argv, proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                  rss_kb / 1024, seconds)
    if hung:
        raise AssertionError(f"vigil hung (killed after {timeout}s)\n{run.describe()}")
    # GNU time notes "Command terminated by signal N" when the child was killed by a signal.
    if "signal" in report:
        number = int(report[report.index("signal") + 1])
        run.returncode = -number
        raise AssertionError(f"vigil crashed with {signal.Signals(number).name}\n{run.describe()}")
    return run


def info(path: Path, *extra: str) -> dict:
    """`vigil image info`: exit 0 and exactly one JSON line carrying every key of the contract."""
    run = vigil("image", "info", path, *extra)
    assert run.returncode == 0, f"image info failed\n{run.describe()}"
    lines = run.stdout.splitlines()
    assert len(lines) == 1, f"expected one JSON line\n{run.describe()}"
    doc = json.loads(lines[0])
    missing = INFO_KEYS - doc.keys()
    assert not missing, f"image info lacks {sorted(missing)}\n{run.describe()}"
    return doc


def convert(path: Path, out: Path, *extra: str) -> Run:
    run = vigil("image", "convert", path, out, *extra)
    assert run.returncode == 0, f"image convert failed\n{run.describe()}"
    assert out.is_file() and out.stat().st_size > 0, f"no output written\n{run.describe()}"
    return run


def decode_npy(path: Path, out_dir: Path, *extra: str) -> np.ndarray:
    """Decodes through `image convert … OUT.npy` and loads the result."""
    out = out_dir / f"{path.name}.{len(extra)}.npy"
    if out.exists():
        out.unlink()
    convert(path, out, *extra)
    return np.load(out, allow_pickle=False)


def check_error(run: Run, input_path: Path, causes: tuple[str, ...] = ERROR_CAUSES,
                exit_code: int | None = None) -> str:
    """A user error: non-zero exit, one stderr line `vigil: <input>: <cause>`; returns the cause."""
    assert run.returncode != 0, f"expected a failure, got success\n{run.describe()}"
    lines = run.stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr\n{run.describe()}"
    prefix = f"vigil: {input_path}: "
    assert lines[0].startswith(prefix), f"stderr does not start with {prefix!r}\n{run.describe()}"
    cause = lines[0][len(prefix):]
    assert cause.startswith(causes), f"cause {cause!r} is not one of {causes}\n{run.describe()}"
    if exit_code is not None:
        assert run.returncode == exit_code, f"expected exit {exit_code}\n{run.describe()}"
    return cause


def expect_error(path: Path, out_dir: Path, causes: tuple[str, ...] = ERROR_CAUSES, *extra: str,
                 exit_code: int | None = None, rss_limit_mb: float | None = RSS_LIMIT_MB) -> str:
    """Both `image info` and `image convert` refuse the input cleanly and leave no output behind."""
    got = []
    for verb in ("info", "convert"):
        out = out_dir / f"{path.name}.refused.npy"
        args = ["image", verb, path, *([out] if verb == "convert" else []), *extra]
        run = vigil(*args)
        got.append(check_error(run, path, causes, exit_code))
        if verb == "convert":
            assert not out.exists(), f"failed convert left {out} behind\n{run.describe()}"
        if rss_limit_mb is not None:
            assert run.max_rss_mb < rss_limit_mb, f"peak RSS too high\n{run.describe()}"
    return got[-1]


def assert_pixels(got: np.ndarray, expected: np.ndarray, tolerance: int = 0) -> None:
    """Same dtype, same shape, same values (or within tolerance); explains a mismatch."""
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, expected {expected.dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}"
    if tolerance == 0 and np.array_equal(got, expected, equal_nan=got.dtype.kind == "f"):
        return
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    if tolerance and diff.max() <= tolerance:
        return
    bad = np.argwhere(diff > tolerance)
    first = tuple(int(i) for i in bad[0])
    raise AssertionError(
        f"{len(bad)} of {diff.size} samples differ (max |diff| {diff.max():g}, tolerance {tolerance}); "
        f"first at {first}: got {got[first]!r}, expected {expected[first]!r}")


SAMPLE_FORMATS = {np.dtype(t): t for t in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32")}


def sample_format(dtype: np.dtype) -> str:
    return SAMPLE_FORMATS[np.dtype(dtype).newbyteorder("=")]


def assert_info_matches(doc: dict, pixels: np.ndarray, *, frames: int, samples: int, **expected) -> None:
    """Geometry and sample format of `image info` agree with the reference array."""
    rows, cols = pixels.shape[1:3] if frames > 1 else pixels.shape[:2]
    want = {"width": cols, "height": rows, "frames": frames, "channels": samples,
            "sampleFormat": sample_format(pixels.dtype), **expected}
    got = {k: doc.get(k) for k in want}
    assert got == want, f"image info {got}, expected {want}\nfull: {doc}"
    assert len(doc["channelRoles"]) == doc["channels"], f"channelRoles vs channels: {doc}"
