"""`vigil analyze` on whole simulated scans with the bundled models, stage by stage, next to
onnxruntime running the same models on the same tiles, in the same run.

For each kind (cargo, parcel, vehicle, parcel-ct on their default profiles): `vigil synth` makes --count
scans (seed 777, not a training seed), `vigil analyze` runs them in one process and reports
per-scan timings (decode, preprocess, inference, postprocess, total); the first scan (plans are
built on first use) is left out. onnxruntime (intra-op threads = --threads, all graph
optimizations) then runs each model on one tile of its input shape; times x the tiles per scan
give the reference for the inference stage.

    .venv/bin/python Benchmarks/bench_analyze.py [--count 20] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VIGIL = REPO / ".build/release/vigil"
KINDS = {"cargo": "cargo-de-linac", "parcel": "parcel-de-160kv", "vehicle": "vehicle-top", "parcel-ct": "parcel-ct"}


def manifests_for(profile):
    out = []
    for m in sorted((REPO / "Models").glob("*/*/manifest.json")):
        data = json.loads(m.read_text())
        if profile in data["profiles"]:
            out.append((data, m.parent / "model.onnx"))
    return out


def ort_ms(path: Path, shape, threads: int, runs: int) -> float:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    s = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).uniform(0, 3, shape).astype(np.float32)
    name = s.get_inputs()[0].name
    for _ in range(3):
        s.run(None, {name: x})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, {name: x})
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def tiles(length, tile, overlap):
    if length <= tile:
        return 1
    n, p = 0, 0
    while p + tile < length:
        n, p = n + 1, p + tile - overlap
    return n + 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=20)
    a = p.parse_args()
    env = dict(os.environ, VIGIL_THREADS=str(a.threads))
    print(f"| kind | scans | decode | preprocess | inference | postprocess | total (p50) | total (p90) | ort inference, same tiles | vigil/ort |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, profile in KINDS.items():
            out = Path(tmp) / kind
            count = a.count if kind != "parcel-ct" else max(3, a.count // 4)
            subprocess.run([str(VIGIL), "synth", "--kind", kind, "--count", str(count), "--seed", "777", "--out", str(out)],
                           check=True, stdout=subprocess.DEVNULL)
            files = sorted(str(f) for f in out.glob(f"{kind}-*.tiff"))
            run = subprocess.run([str(VIGIL), "analyze", *files, "--profile", profile], env=env, capture_output=True, text=True)
            if run.returncode != 0:
                print(run.stderr, file=sys.stderr)
                return 1
            results = [json.loads(line) for line in run.stdout.splitlines()][1:]
            med = {k: statistics.median(r["timingsMs"][k] for r in results) for k in results[0]["timingsMs"]}
            totals = sorted(r["timingsMs"]["total"] for r in results)
            p90 = totals[min(len(totals) - 1, int(0.9 * len(totals)))]
            # Reference: each model on its tile shape, times the tiles a scan of this size needs.
            w, h = results[0]["image"]["width"], results[0]["image"]["height"]
            reference = 0.0
            for manifest, path in manifests_for(profile):
                inp = manifest["input"]
                scale = inp.get("pitchMM")
                prof = json.loads((REPO / "ScannerProfiles/vendors" / f"{profile}.json").read_text())
                along, across = prof["pixelPitch"]["alongTravelMM"], prof["pixelPitch"]["acrossTravelMM"]
                if "frames" in results[0]["image"]:  # CT: the top view is slices x slice width
                    frames = results[0]["image"]["frames"]
                    pw, ph = round(frames * prof["pixelPitch"].get("sliceMM", along) / scale), round(w * across / scale)
                else:
                    pw = round(w * along / scale) if scale else w
                    ph = round(h * across / scale) if scale else h
                n = tiles(pw, inp["width"], inp["overlap"]) * tiles(ph, inp["height"], inp["overlap"])
                reference += n * ort_ms(path, [1, len(inp["channels"]), inp["height"], inp["width"]], a.threads, a.runs)
            print(f"| {kind} ({profile}, {w}x{h}) | {len(results)} | {med['decode']:.1f} | {med['preprocess']:.1f} | "
                  f"{med['inference']:.1f} | {med['postprocess']:.1f} | {med['total']:.1f} | {p90:.1f} | {reference:.1f} | "
                  f"{med['inference'] / reference:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
