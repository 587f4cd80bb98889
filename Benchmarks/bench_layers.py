#!/usr/bin/env python3
"""Single convolutions: Vigil's engine against onnxruntime, layer by layer, in one run.

Each layer "C,H,W,F,K,S" (input channels, height, width, filters, square kernel, stride; padding
K // 2, a bias and a fused ReLU) becomes a one-Conv ONNX file in --out. For each layer, --rounds
interleaved rounds time onnxruntime (in this process) and every `vigil model bench` binary given;
the best median of each is printed with the ratios and GFLOP/s. Interleaving and best-of-rounds
keep a shared machine's drift from deciding a comparison.

    .venv/bin/python Benchmarks/bench_layers.py                              # the default layers
    .venv/bin/python Benchmarks/bench_layers.py --vigil old/vigil,.build/release/vigil --names before,after 64,56,56,64,3,1
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

# ResNet-18 (224), YOLOv8n (320) and cargo-threat (1024 x 512) layers.
DEFAULT_LAYERS = [
    "3,224,224,64,7,2", "64,56,56,64,3,1", "64,56,56,128,3,2", "128,28,28,128,3,1", "256,14,14,256,3,1",
    "512,7,7,512,3,1", "16,160,160,32,3,2", "32,40,40,32,3,1", "64,20,20,64,3,1", "128,10,10,128,3,1",
    "384,10,10,256,1,1", "2,512,1024,12,3,2", "12,256,512,24,3,2", "48,64,128,48,3,1", "48,64,128,64,3,2",
]


def conv_model(c, h, w, f, k, s, path):
    rng = np.random.RandomState(0)
    weights = numpy_helper.from_array((rng.randn(f, c, k, k) * 0.1).astype(np.float32), "W")
    bias = numpy_helper.from_array(np.zeros(f, np.float32), "B")
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["c"], kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4),
             helper.make_node("Relu", ["c"], ["y"])]
    graph = helper.make_graph(nodes, "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weights, bias])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)


def ort_median_ms(path, shape, runs, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    x = np.random.rand(*shape).astype(np.float32)
    for _ in range(3):
        session.run(None, {"x": x})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {"x": x})
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def vigil_median_ms(binary, path, runs, threads):
    out = subprocess.run([binary, "model", "bench", path, "--threads", str(threads), "--runs", str(runs)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["median_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("layers", nargs="*", default=DEFAULT_LAYERS, help="C,H,W,F,K,S")
    parser.add_argument("--vigil", default=".build/release/vigil", help="comma-separated vigil binaries")
    parser.add_argument("--names", help="comma-separated column names for the binaries (default: their file names)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="Benchmarks/models/layers")
    args = parser.parse_args()
    binaries = args.vigil.split(",")
    os.makedirs(args.out, exist_ok=True)
    names = args.names.split(",") if args.names else [os.path.basename(b) for b in binaries]
    print("| layer | " + " | ".join(f"{n} ms" for n in names) + " | ort ms | " + " | ".join(f"{n}/ort" for n in names)
          + " | " + " | ".join(f"{n} GFLOP/s" for n in names) + " | ort GFLOP/s |")
    print("|---" * (1 + 3 * len(binaries) + 2) + "|")
    for spec in args.layers:
        c, h, w, f, k, s = (int(v) for v in spec.split(","))
        path = os.path.join(args.out, f"conv_{c}_{h}_{w}_{f}_{k}_{s}.onnx")
        conv_model(c, h, w, f, k, s, path)
        oh, ow = (h + 2 * (k // 2) - k) // s + 1, (w + 2 * (k // 2) - k) // s + 1
        flops = 2 * c * f * k * k * oh * ow
        runs = max(20, min(300, int(1e10 / flops)))
        best = [float("inf")] * len(binaries)
        ort_best = float("inf")
        for _ in range(args.rounds):
            ort_best = min(ort_best, ort_median_ms(path, [1, c, h, w], runs, args.threads))
            for i, binary in enumerate(binaries):
                best[i] = min(best[i], vigil_median_ms(binary, path, runs, args.threads))
        print(f"| {c} → {f}, {k}x{k} s{s}, {h}x{w} | " + " | ".join(f"{v:.3f}" for v in best) + f" | {ort_best:.3f} | "
              + " | ".join(f"{v / ort_best:.2f}" for v in best) + " | "
              + " | ".join(f"{flops / v / 1e6:.0f}" for v in best) + f" | {flops / ort_best / 1e6:.0f} |")


if __name__ == "__main__":
    main()
