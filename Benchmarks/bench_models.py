"""Vigil's engine against onnxruntime on the same ONNX files, in the same run, on this machine.

For each benchmark model (generated into Benchmarks/models/, not committed, plus Vigil's own models
in Models/) and thread count:
onnxruntime timed in this process (warm-up, then --runs runs: median and p10; intra-op threads = T,
inter-op threads = 1, all graph optimizations) next to `vigil model bench MODEL --shape ...
--threads T --runs N`; then the peak RSS of each after loading the model and running it once.
Prints markdown tables with vigil/ort ratios (the number that holds on a shared machine; see
DESIGN.md "Performance: how we measure").

    .venv/bin/python Benchmarks/bench_models.py                     # release build, threads 1 and 2
    .venv/bin/python Benchmarks/bench_models.py --openblas-default  # vigil without OPENBLAS_CORETYPE/L2_SIZE
    .venv/bin/python Benchmarks/bench_models.py --ort-only          # the reference side alone
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "Tests/python"))

import engine_models as em  # noqa: E402

MODELS = {
    "yolov8n_320": lambda: em.yolov8n_style(320),
    "yolov8n_640": lambda: em.yolov8n_style(640),
    "resnet_style_224": lambda: em.resnet_style(224),
}
# Vigil's own default models, as committed (Models/<name>/<version>/model.onnx).
OWN_MODELS = {p.parent.parent.name: p for p in sorted((REPO / "Models").glob("*/*/model.onnx"))}
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
VIGIL_DEFAULT = REPO / ".build/release/vigil"


def cpu_model() -> str:
    """Model name, family/model numbers (VMs often hide the name) and the widest SIMD the CPU offers."""
    info = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    flags = set(info.get("flags", "").split())
    simd = next((f for f in ("avx512f", "avx2", "avx", "sse4_2") if f in flags), "none")
    return (f"{info.get('model name', platform.processor() or 'unknown')} (family {info.get('cpu family', '?')} "
            f"model {info.get('model', '?')}, {simd})")


def ort_session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def ort_time(path: Path, inputs: dict, threads: int, warmup: int, runs: int) -> dict:
    sess = ort_session(path, threads)
    for _ in range(warmup):
        sess.run(None, inputs)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sess.run(None, inputs)
        times.append((time.perf_counter() - start) * 1e3)
    return {"median_ms": float(np.median(times)), "p10_ms": float(np.percentile(times, 10))}


def ort_rss_child(path: str, threads: int) -> None:
    """Child process of ort_rss: load the model and run it once."""
    model = onnx.load(path, load_external_data=False)
    ort_session(Path(path), threads).run(None, em.sample_inputs(model))


# Peak RSS must come from a small parent: Linux carries the RSS high-water mark of the process that
# forks (this script, holding onnxruntime sessions) into the child's ru_maxrss across exec. A fresh
# interpreter that only spawns and waits puts the floor at its own ~10 MB.
RSS_LAUNCHER = ("import os, sys; pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ); "
                "_, status, usage = os.wait4(pid, 0); print(usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))")


def peak_rss_mb(argv: list[str], env: dict | None = None) -> float:
    """Runs argv to completion; returns its peak RSS in MB."""
    proc = subprocess.run([sys.executable, "-c", RSS_LAUNCHER, *argv], capture_output=True, text=True, env=env)
    rss, code = proc.stdout.split()[-2:] if proc.returncode == 0 else ("0", "1")
    if int(code) != 0:
        sys.exit(f"{' '.join(argv)} exited {code}:\n{proc.stderr}")
    return float(rss)


def ort_rss(path: Path | None, threads: int = 1) -> float:
    """Peak RSS of a Python that imports onnxruntime, loads the model and runs it once (path None: no model)."""
    if path is None:
        return peak_rss_mb([sys.executable, "-c", "import numpy, onnxruntime"])
    return peak_rss_mb([sys.executable, __file__, "--ort-rss-child", str(path), str(threads)])


def run_child(argv: list[str], env: dict) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
    return proc.stdout


def vigil_bench(vigil: Path, path: Path, shape: str, threads: int, runs: int, env: dict) -> dict:
    argv = [str(vigil), "model", "bench", str(path), "--shape", shape, "--threads", str(threads), "--runs", str(runs)]
    out = run_child(argv, env)
    lines = out.splitlines()
    if len(lines) != 1:
        sys.exit(f"{' '.join(argv)}: expected one JSON line, got:\n{out}")
    doc = json.loads(lines[0])
    missing = {"median_ms", "p10_ms", "threads"} - doc.keys()
    if missing:
        sys.exit(f"{' '.join(argv)}: JSON lacks {sorted(missing)}: {doc}")
    return doc


def vigil_rss(vigil: Path, path: Path, shape: str, env: dict) -> float:
    """Peak RSS of `vigil model bench --runs 1` (load + one inference)."""
    return peak_rss_mb([str(vigil), "model", "bench", str(path), "--shape", shape, "--threads", "1", "--runs", "1"], env)


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "—" if x is None else format(x, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vigil", type=Path, default=Path(os.environ.get("VIGIL_BIN", VIGIL_DEFAULT)))
    parser.add_argument("--models", default=",".join([*MODELS, *OWN_MODELS]),
                        help=f"comma-separated subset of {', '.join([*MODELS, *OWN_MODELS])}")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--openblas-default", action="store_true",
                        help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the vigil subprocess only")
    parser.add_argument("--ort-only", action="store_true", help="time onnxruntime alone (no vigil binary needed)")
    parser.add_argument("--ort-rss-child", nargs=2, metavar=("MODEL", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ort_rss_child:
        return ort_rss_child(args.ort_rss_child[0], int(args.ort_rss_child[1]))

    import onnxruntime as ort

    vigil = args.vigil if args.vigil.is_absolute() else (REPO / args.vigil)
    if not args.ort_only and not vigil.is_file():
        sys.exit(f"vigil binary not found at {vigil} (build it with `swift build -c release`, pass --vigil or "
                 f"VIGIL_BIN, or use --ort-only)")
    env = dict(os.environ)
    if args.openblas_default:
        for var in OPENBLAS_VARS:
            env.pop(var, None)
    threads = [int(t) for t in args.threads.split(",")]
    names = args.models.split(",")

    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical CPUs)  |  onnxruntime {ort.__version__}  |  "
          f"python {platform.python_version()}")
    print("vigil: " + ("(not run: --ort-only)" if args.ort_only else str(vigil)) + "  |  vigil ran with "
          + " ".join(f"{v}={env.get(v, '(unset)')}" for v in OPENBLAS_VARS)
          + ("  (--openblas-default)" if args.openblas_default else ""))
    print(f"runs {args.runs} after {args.warmup} warm-up (onnxruntime); median and p10 in ms\n")

    models_dir = HERE / "models"
    models_dir.mkdir(exist_ok=True)
    rows, rss_rows = [], []
    for name in names:
        if name in OWN_MODELS:
            path = OWN_MODELS[name]
            model = onnx.load(str(path))
        else:
            model = MODELS[name]()
            path = models_dir / f"{name}.onnx"
            em.save(model, path)
        gflop = em.flops(model) / 1e9
        inputs = em.sample_inputs(model)
        (iname, value), = inputs.items()
        shape = f"{iname}={'x'.join(map(str, value.shape))}"
        for t in threads:
            o = ort_time(path, inputs, t, args.warmup, args.runs)
            v = None if args.ort_only else vigil_bench(vigil, path, shape, t, args.runs, env)
            rows.append((name, gflop, t, v, o))
            print(f"  {name} threads {t}: ort {o['median_ms']:.2f} ms"
                  + ("" if v is None else f", vigil {v['median_ms']:.2f} ms"), file=sys.stderr)
        rss_rows.append((name, None if args.ort_only else vigil_rss(vigil, path, shape, env), ort_rss(path)))

    reports = [r[3] for r in rows if r[3]]
    same = {k: v for k, v in (reports[0].items() if reports else ()) if all(r.get(k) == v for r in reports)
            and k not in ("threads", "runs")}
    if same:  # what describes the whole run, e.g. the BLAS kernels vigil picked
        print("vigil reported in every run: " + ", ".join(f"{k}={v}" for k, v in sorted(same.items())) + "\n")
    print("| model | GFLOP | threads | vigil median ms | ort median ms | vigil/ort | vigil p10 ms | ort p10 ms "
          "| vigil GFLOP/s | ort GFLOP/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, gflop, t, v, o in rows:
        vm = v and v["median_ms"]
        print(f"| {name} | {gflop:.2f} | {t} | {fmt(vm, '.2f')} | {o['median_ms']:.2f} | "
              f"{fmt(vm and vm / o['median_ms'], '.2f')} | {fmt(v and v['p10_ms'], '.2f')} | {o['p10_ms']:.2f} | "
              f"{fmt(vm and gflop / vm * 1e3)} | {gflop / o['median_ms'] * 1e3:.1f} |")
    base = ort_rss(None)
    print(f"\nPeak RSS after loading the model and one inference (MB; onnxruntime's includes the Python "
          f"interpreter, {base:.0f} MB with onnxruntime imported and no model):\n")
    print("| model | vigil peak RSS MB | ort peak RSS MB |")
    print("|---|---:|---:|")
    for name, v, o in rss_rows:
        print(f"| {name} | {fmt(v, '.0f')} | {o:.0f} |")


if __name__ == "__main__":
    main()
