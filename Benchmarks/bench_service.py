"""`vigil push` load runs against `vigil serve` (release build, loopback, this machine), next to
the pure inference time of the same scans as the server measured it.

For each kind (cargo on cargo-de-linac, parcel on parcel-de-160kv) `vigil synth` makes --count
scans (seed 777). They are pushed as written (16-bit TIFF, Deflate) and as uncompressed NPY
(`vigil image convert`), the case of a station that sends raw pixels. Each set is pushed once to
warm up (plans are built per input shape), then --scans scans at each concurrency.

Overhead is everything between send and RESULT that is not model inference: receive, persist
(fsync), queue, decode, preprocess, postprocess, respond. `1 - inference p50 / latency p50`.

    .venv/bin/python Benchmarks/bench_service.py [--count 8] [--scans 48] [--concurrency 1 2 4] [--kinds cargo parcel]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VIGIL = REPO / ".build/release/vigil"
KINDS = {"cargo": "cargo-de-linac", "parcel": "parcel-de-160kv"}


def start_server(data: Path, env: dict) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([str(VIGIL), "serve", "--data", str(data), "--ingest-port", "0", "--http-port", "0", "--dicom-port", "0"],
                            stdout=subprocess.PIPE, stderr=open(data.parent / "serve.log", "w"), text=True, env=env)
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"vigil serve exited with {proc.wait()}")
    return proc, json.loads(line)["ingestPort"]


def push(port: int, files: list[str], profile: str, count: int, concurrency: int) -> dict:
    out = subprocess.run([str(VIGIL), "push", *files, "--to", f"127.0.0.1:{port}", "--profile", profile,
                          "--count", str(count), "--concurrency", str(concurrency)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(f"vigil push exited {out.returncode}: {out.stdout.strip()} {out.stderr.strip()}", file=sys.stderr)
    if not out.stdout.strip():
        raise SystemExit(1)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=8, help="distinct scans per kind")
    ap.add_argument("--scans", type=int, default=48, help="scans pushed per load run")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    args = ap.parse_args()
    if not VIGIL.is_file():
        raise SystemExit("build first: swift build -c release")
    env = dict(os.environ)
    # What a port gets by default: Vigil picks OpenBLAS's AVX-512 kernels itself.
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sets = []
        for kind in args.kinds:
            profile = KINDS[kind]
            d = tmp / kind
            subprocess.run([str(VIGIL), "synth", "--kind", kind, "--count", str(args.count), "--seed", "777", "--out", str(d)],
                           check=True, capture_output=True)
            tiffs = sorted(str(p) for p in d.glob("*.tiff"))
            npys = []
            for t in tiffs:
                n = t.replace(".tiff", ".npy")
                subprocess.run([str(VIGIL), "image", "convert", t, n], check=True, capture_output=True)
                npys.append(n)
            mb = sum(Path(f).stat().st_size for f in tiffs) / len(tiffs) / 1e6
            mb_npy = sum(Path(f).stat().st_size for f in npys) / len(npys) / 1e6
            sets.append((kind, profile, "tiff-deflate", tiffs, mb))
            sets.append((kind, profile, "npy", npys, mb_npy))
        proc, port = start_server(tmp / "data", env)
        try:
            print(f"cores: {os.cpu_count()}, server: {VIGIL} serve (default workers and queue)")
            print("| scans | format | MB/scan | concurrency | scans/s | p50 ms | p95 ms | p99 ms | p99/p50 | "
                  "server: decode | preprocess | inference | pipeline total | overhead at p50 |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for kind, profile, fmt, files, mb in sets:
                push(port, files, profile, len(files), 1)  # warm-up: plans per shape
                for c in args.concurrency:
                    r = push(port, files, profile, args.scans, c)
                    s = r["serverP50Ms"]
                    overhead = 1 - s["inference"] / r["p50Ms"]
                    print(f"| {kind} | {fmt} | {mb:.1f} | {c} | {r['scansPerSecond']:.1f} | {r['p50Ms']:.1f} | {r['p95Ms']:.1f} | "
                          f"{r['p99Ms']:.1f} | {r['p99Ms'] / r['p50Ms']:.2f} | {s['decode']:.1f} | {s['preprocess']:.1f} | "
                          f"{s['inference']:.1f} | {s['total']:.1f} | {overhead:.0%} |", flush=True)
                    if r["errors"] or r["verdicts"].get("error"):
                        print(f"  errors: {r['errors']}, error verdicts: {r['verdicts'].get('error', 0)}")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
            if code != 0:
                print(f"vigil serve exited {code}", file=sys.stderr)


if __name__ == "__main__":
    main()
