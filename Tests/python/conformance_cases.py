"""The ONNX project's node test cases (onnx.backend.test.case.node), classified for Vigil's engine.

A case runs when every operator is in SUPPORTED, every tensor is float32/int64/int32/bool, nothing
is a sequence or optional, no node trains, and no attribute picks a variant the engine does not
claim. Otherwise it is skipped for the first reason found, in that order. The skip list
(onnx_conformance_skips.txt) is written from this classification alone, by
update_conformance_skips.py, never from run results: it changes only when this file, the engine's
operator list or the onnx version does.
"""
from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

SKIPS_FILE = Path(__file__).with_name("onnx_conformance_skips.txt")

SUPPORTED = frozenset("""
    Conv ConvTranspose BatchNormalization Relu LeakyRelu Sigmoid HardSigmoid HardSwish Tanh Clip
    Add Sub Mul Div Pow Sqrt Exp Log MaxPool AveragePool GlobalAveragePool Gemm MatMul Flatten Reshape
    Transpose Concat Split Slice Squeeze Unsqueeze Pad Resize Softmax ReduceMean ReduceMax ArgMax
    Shape Gather Constant ConstantOfShape Cast Range Expand Identity Equal Where Softplus
""".split())

DTYPES = frozenset({TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL})

# Attribute values of supported operators that the engine does not claim (its scope: Resize nearest
# and linear with asymmetric / half_pixel / align_corners / pytorch_half_pixel; Pad constant, reflect,
# edge). Anything else of a supported operator runs.
UNSUPPORTED_VARIANTS = {
    ("Resize", "mode"): {"cubic"},
    ("Resize", "coordinate_transformation_mode"): {"tf_crop_and_resize", "half_pixel_symmetric"},
    ("Resize", "antialias"): {1},
    ("Resize", "keep_aspect_ratio_policy"): {"not_larger", "not_smaller"},
    ("Pad", "mode"): {"wrap"},
}


@lru_cache(maxsize=1)
def cases() -> dict:
    """name -> onnx TestCase (.model, .data_sets [(inputs, outputs)], .rtol, .atol)."""
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), np.errstate(all="ignore"):  # the case generators overflow on purpose
        warnings.simplefilter("ignore")
        found = collect_testcases()
    out = {c.name: c for c in found}
    assert len(out) == len(found), "duplicate case names"
    return out


def _graphs(model: onnx.ModelProto):
    """The main graph and every subgraph (If/Loop/Scan bodies), plus local functions' nodes."""
    stack = [model.graph]
    while stack:
        g = stack.pop()
        yield g
        for n in g.node:
            for a in n.attribute:
                stack.extend([a.g] if a.type == onnx.AttributeProto.GRAPH else list(a.graphs))


def _nodes(model: onnx.ModelProto):
    for g in _graphs(model):
        yield from g.node
    for f in model.functions:
        yield from f.node


def _dtype_name(t: int) -> str:
    name = TensorProto.DataType.Name(t).lower()
    return {"float": "float32", "double": "float64"}.get(name, name)


def _supported_array(v) -> bool:
    try:
        return helper.np_dtype_to_tensor_dtype(np.asarray(v).dtype) in DTYPES
    except (KeyError, TypeError, ValueError):
        return False


def _value_types(model: onnx.ModelProto):
    for g in _graphs(model):
        for vi in [*g.input, *g.output, *g.value_info]:
            yield vi.type


def classify(model: onnx.ModelProto, data_sets=()) -> str | None:
    """None when the case runs, else the reason it is skipped."""
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - a case inference cannot follow is classified on what it declares
        pass
    types = list(_value_types(model))
    if any(t.WhichOneof("value") not in (None, "tensor_type") for t in types) or any(
            isinstance(v, (list, tuple, dict)) or v is None for ins, outs in data_sets for v in [*ins, *outs]):
        return "sequence/optional type"

    nodes = list(_nodes(model))
    ops = sorted({(n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}:{n.op_type}") for n in nodes}
                 - SUPPORTED)
    if ops:
        return f"unsupported op {', '.join(ops)}"

    dtypes = {t.tensor_type.elem_type for t in types if t.tensor_type.elem_type}
    dtypes |= {t.data_type for g in _graphs(model) for t in g.initializer}
    for n in nodes:
        for a in n.attribute:
            if a.name in ("to", "dtype") and a.type == onnx.AttributeProto.INT:
                dtypes.add(a.i)
            elif a.type == onnx.AttributeProto.TENSOR:
                dtypes.add(a.t.data_type)
    bad = sorted({_dtype_name(t) for t in dtypes - DTYPES}) or sorted(
        {str(np.asarray(v).dtype) for ins, outs in data_sets for v in [*ins, *outs] if not _supported_array(v)})
    if bad:
        return f"dtype {', '.join(bad)}"

    scope = _outside_engine_scope(model)
    if scope:
        return scope

    for n in nodes:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "BatchNormalization" and attrs.get("training_mode", 0):
            return "training mode"
        for name, value in attrs.items():
            value = value.decode() if isinstance(value, bytes) else value
            if value in UNSUPPORTED_VARIANTS.get((n.op_type, name), ()):
                return f"unsupported attribute {n.op_type} {name}={value}"
    return None


def _outside_engine_scope(model: onnx.ModelProto) -> str | None:
    """Variants of supported operators the engine refuses at load, by design (docs/models.md):
    3-D (volumetric) convolution, MaxPool's Indices output, and output shapes that
    would depend on the values of a float graph input (integer inputs are planned by value)."""
    g = model.graph
    ranks = {vi.name: len(vi.type.tensor_type.shape.dim) for vi in [*g.input, *g.value_info, *g.output]}
    float_inputs = {vi.name for vi in g.input if vi.type.tensor_type.elem_type == TensorProto.FLOAT} - {
        t.name for t in g.initializer}
    for n in g.node:
        if n.op_type in ("Conv", "ConvTranspose") and ranks.get(n.input[0], 0) > 4:
            return f"unsupported 3-D {n.op_type}"
        if n.op_type == "MaxPool" and len(n.output) > 1 and n.output[1]:
            return "unsupported MaxPool Indices output"
        if n.op_type == "Resize" and any(i in float_inputs for i in n.input[1:3]):
            return "unsupported Resize scales given at run time (output shape would depend on input values)"
        if n.op_type == "Range" and any(i in float_inputs for i in n.input):
            return "unsupported Range of float graph inputs (output shape would depend on input values)"
    return None


@lru_cache(maxsize=1)
def classification() -> dict[str, str | None]:
    return {name: classify(c.model, c.data_sets) for name, c in sorted(cases().items())}


def expected_skips() -> dict[str, str]:
    return {name: reason for name, reason in classification().items() if reason}


def header() -> str:
    return (f"# ONNX node test cases Vigil's engine does not run: case<TAB>reason. onnx {onnx.__version__}.\n"
            "# Generated by Tests/python/update_conformance_skips.py from the classification in\n"
            "# conformance_cases.py, never from run results. Do not edit by hand.\n")


def read_skips(path: Path = SKIPS_FILE) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, reason = line.split("\t")
            out[name] = reason
    return out


def render_skips(skips: dict[str, str]) -> str:
    return header() + "".join(f"{name}\t{reason}\n" for name, reason in sorted(skips.items()))
