"""Vigil's ONNX engine against onnxruntime on the models of engine_models.py.

Every model gets random inputs from a fixed seed; onnxruntime (CPU, one thread) gives the reference
and `vigil model run` must match every output. Also: unsupported models fail at load with one line
naming the operator and node; external-data models run; `model bench` and `model inspect` answer
their JSON.

Run from the repository root:  .venv/bin/python -m pytest -q Tests/python/test_engine_parity.py
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnx
import pytest

import engine_models as em
from engine_harness import (NET_TIMEOUT_S, assert_close, one_json_line, ort_run, output_names, vigil_run,
                            write_inputs)
from vigil_cli import check_error, vigil

SEED = 20240611
MODELS = em.all_models()

# Default, as the contract states: rtol 1e-4, atol 1e-5 * max(1, max |reference|).
DEFAULT_TOLERANCE = (1e-4, 1e-5)
# Per-model (rtol, atol factor) by name prefix. Only networks are looser: dozens of stacked
# convolutions (K up to 4608), BatchNormalization folded into the weights by the engine and not by
# onnxruntime, the engine's own GEMM blocking and thread split, and in YOLO the DFL softmax over 16
# bins, all change float32 rounding. onnxruntime itself lands within ~1e-6 of the output scale of a
# float64 evaluation of these nets; a correct engine may be ten times further, never a hundred.
TOLERANCES = {
    "resnet_style": (1e-3, 1e-4),
    "mobilenet_style": (1e-3, 1e-4),
    "yolov8n": (1e-3, 1e-4),
    "opset9_net": (1e-3, 1e-4),
}
# Outputs that mix scales are compared part by part (the atol scale is each part's own maximum):
# YOLO's rows 0-3 are box coordinates in pixels (up to the image size), rows 4.. class scores in 0..1.
PARTS = {"yolov8n": {"output0": [("boxes", np.s_[:, :4]), ("scores", np.s_[:, 4:])]}}


def _by_prefix(table: dict, name: str, default):
    return next((v for k, v in table.items() if name.startswith(k)), default)


def compare(model_name: str, got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    rtol, factor = _by_prefix(TOLERANCES, model_name, DEFAULT_TOLERANCE)
    parts = _by_prefix(PARTS, model_name, {})
    for out, ref in want.items():
        for label, index in parts.get(out, [("", np.s_[...])]):
            r = ref[index]
            atol = factor * max(1.0, float(np.abs(r).max())) if r.dtype.kind == "f" and r.size else 0.0
            g = got[out][index] if got[out].shape == ref.shape else got[out]
            assert_close(f"{out}{'[' + label + ']' if label else ''}", g, r, rtol, atol)


@lru_cache(maxsize=None)
def _build(name: str) -> onnx.ModelProto:
    return MODELS[name]()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


def saved(name: str, directory: Path, external_data: bool = False) -> tuple[Path, onnx.ModelProto]:
    model = _build(name)
    path = directory / f"{name}{'-external' if external_data else ''}.onnx"
    if not path.exists():
        if external_data:
            path.parent.mkdir(parents=True, exist_ok=True)
        em.save(model, path, external_data)
    return path, model


def _timeout(name: str) -> float:
    return NET_TIMEOUT_S if name in em.NETS else 60.0


@pytest.mark.parametrize("name", MODELS)
def test_matches_onnxruntime(name: str, model_dir: Path, tmp_path: Path) -> None:
    path, model = saved(name, model_dir)
    inputs = em.sample_inputs(model, SEED)
    want = ort_run(path, inputs)
    got = vigil_run(path, inputs, tmp_path / "out", output_names(model), timeout=_timeout(name))
    compare(name, got, want)


@pytest.mark.parametrize("name", ["opset9_net", "mobilenet_style_224", "conv_3x3_pad1"])
def test_external_data(name: str, tmp_path: Path) -> None:
    """Initializers in one side file next to the model (resolved relative to the model, not the cwd)."""
    path, model = saved(name, tmp_path / "external", external_data=True)
    assert (path.parent / f"{path.name}.data").stat().st_size > path.stat().st_size, "weights not external"
    inputs = em.sample_inputs(model, SEED)
    want = ort_run(path, inputs)
    compare(name, vigil_run(path, inputs, tmp_path / "out", output_names(model), timeout=_timeout(name)), want)


UNSUPPORTED = em.unsupported_models()


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_fails_at_load(name: str, tmp_path: Path) -> None:
    """Exit 1 and one stderr line `vigil: MODEL: unsupported: ...` naming operator, node (and attribute)."""
    model, op, node, attribute = UNSUPPORTED[name]
    path = tmp_path / f"{name}.onnx"
    onnx.save_model(model, str(path))
    out = tmp_path / "out"
    run = vigil("model", "run", path, *write_inputs(em.sample_inputs(model, SEED), tmp_path / "in"),
                "--output-dir", out)
    cause = check_error(run, path, ("unsupported:",), exit_code=1)
    for word in filter(None, (op, node, attribute)):
        assert word in cause, f"the error does not name {word!r}\n{run.describe()}"
    assert not out.exists() or not any(out.iterdir()), f"outputs written for a refused model\n{run.describe()}"


@pytest.mark.parametrize("threads", [1, 2])
def test_bench_contract(threads: int, model_dir: Path) -> None:
    path, model = saved("conv_3x3_pad1", model_dir)
    (vi,) = em.graph_inputs(model)
    shape = "x".join(str(d.dim_value) for d in vi.type.tensor_type.shape.dim)
    run = vigil("model", "bench", path, "--shape", f"{vi.name}={shape}", "--threads", str(threads), "--runs", "5")
    doc = one_json_line(run, "model bench")
    missing = {"median_ms", "p10_ms", "threads"} - doc.keys()
    assert not missing, f"model bench lacks {sorted(missing)}\n{run.describe()}"
    assert doc["threads"] == threads, run.describe()
    assert 0 < doc["p10_ms"] <= doc["median_ms"], run.describe()


@pytest.mark.parametrize("name", ["yolov8n_320", "resnet_style_224", "odd_names"])
def test_inspect(name: str, model_dir: Path) -> None:
    """`model inspect`: JSON naming every input and output, and `flops` (2 * multiply-adds of Conv,
    ConvTranspose, Gemm, MatMul) within 1% of ours. Key names `inputs`, `outputs`, `flops` assumed."""
    path, model = saved(name, model_dir)
    run = vigil("model", "inspect", path)
    assert run.returncode == 0, f"model inspect failed\n{run.describe()}"
    doc = json.loads(run.stdout)
    for key, names in (("inputs", [i.name for i in em.graph_inputs(model)]), ("outputs", output_names(model))):
        text = json.dumps(doc.get(key))
        absent = [n for n in names if json.dumps(n) not in text]
        assert not absent, f"inspect {key} does not name {absent}\n{run.describe()}"
    want = em.flops(model)
    assert abs(doc.get("flops", -1) - want) <= 0.01 * want, f"flops {doc.get('flops')}, expected {want}\n{run.describe()}"
