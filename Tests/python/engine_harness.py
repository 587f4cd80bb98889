"""Running ONNX models through `vigil model run` and onnxruntime, and comparing what they answer.

The `model run` contract: `vigil model run MODEL.onnx --input NAME=FILE.npy ... --output-dir DIR`
writes `DIR/<output name>.npy` for every graph output, `/` and `\\` in the name replaced by `_`;
float outputs as float32, integer outputs as int64, bool outputs as bool.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx

from vigil_cli import Run, vigil

# A debug build on a shared 2-core machine: networks of a few GFLOP take a while.
NET_TIMEOUT_S = 600.0


def output_file(out_dir: Path, name: str) -> Path:
    return out_dir / (name.replace("/", "_").replace("\\", "_") + ".npy")


def output_names(model: onnx.ModelProto) -> list[str]:
    return [o.name for o in model.graph.output]


def write_inputs(inputs: dict[str, np.ndarray], in_dir: Path) -> list[str]:
    """Saves each input as in_dir/inputN.npy (names may hold any character); returns the --input args."""
    in_dir.mkdir(parents=True, exist_ok=True)
    args = []
    for i, (name, value) in enumerate(inputs.items()):
        path = in_dir / f"input{i}.npy"
        np.save(path, np.asarray(value), allow_pickle=False)
        args += ["--input", f"{name}={path}"]
    return args


def vigil_run(model_path: Path, inputs: dict[str, np.ndarray], out_dir: Path, outputs: list[str],
              timeout: float = 60.0) -> dict[str, np.ndarray]:
    """`vigil model run`: exit 0 and one .npy per graph output, loaded by output name."""
    args = write_inputs(inputs, out_dir.parent / f"{out_dir.name}-inputs")
    run = vigil("model", "run", model_path, *args, "--output-dir", out_dir, timeout=timeout)
    assert run.returncode == 0, f"vigil model run failed\n{run.describe()}"
    missing = [n for n in outputs if not output_file(out_dir, n).is_file()]
    assert not missing, f"no file for outputs {missing} in {sorted(p.name for p in out_dir.glob('*'))}\n{run.describe()}"
    return {n: np.load(output_file(out_dir, n), allow_pickle=False) for n in outputs}


def ort_run(model: Path | onnx.ModelProto, inputs: dict[str, np.ndarray], threads: int = 1) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    source = str(model) if isinstance(model, Path) else model.SerializeToString()
    sess = ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, inputs)))


# The contract's output dtypes, by the reference's kind: float -> float32, any integer -> int64, bool.
# Float outputs are float32 (the `model run` contract); integer and bool outputs keep the type the
# model declares (an int32 Cast stays int32).
CONTRACT_DTYPE = {"f": np.dtype(np.float32)}


def assert_close(name: str, got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> None:
    """Contract dtype and shape, then values: floats within rtol/atol, integers and bools exactly."""
    dtype = CONTRACT_DTYPE.get(want.dtype.kind, want.dtype)
    assert got.dtype == dtype, (f"output {name!r}: dtype {got.dtype}, the `model run` contract says {dtype} "
                                f"(the model declares {want.dtype})")
    assert got.shape == want.shape, f"output {name!r}: shape {got.shape}, expected {want.shape}"
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"output {name!r}")
    else:
        np.testing.assert_array_equal(got, want.astype(dtype), err_msg=f"output {name!r}")


def one_json_line(run: Run, what: str) -> dict:
    assert run.returncode == 0, f"{what} failed\n{run.describe()}"
    lines = run.stdout.splitlines()
    assert len(lines) == 1, f"{what}: expected one JSON line on stdout\n{run.describe()}"
    doc = json.loads(lines[0])
    assert isinstance(doc, dict), f"{what}: expected a JSON object\n{run.describe()}"
    return doc
