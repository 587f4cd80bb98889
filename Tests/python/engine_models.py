"""ONNX models for the engine tests and benchmarks, built with onnx.helper and numpy only.

Every builder returns a checked `onnx.ModelProto` (shapes inferred, `check_model(full_check=True)`)
with float32 weights drawn from a generator seeded by the model's name, so a model is the same on
every machine and in every run.

- `OP_CASES` / `op_model(name)`: one tiny model per operator variant, odd shapes.
- `resnet_style`, `mobilenet_style`, `yolov8n_style`, `opset9_net`: whole networks.
- `NETS`: the networks the parity tests and the benchmarks use, by name.
- `sample_inputs(model, seed)`: random inputs for a model's graph inputs.
- `flops(model, input_shapes)`: 2 * multiply-adds of Conv, ConvTranspose, Gemm and MatMul.

`python Tests/python/engine_models.py` checks every model in onnxruntime and prints the FLOPs.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32 = np.float32
I64_MAX = np.iinfo(np.int64).max
I64_MIN = np.iinfo(np.int64).min


# --------------------------------------------------------------------------------------------
# A small graph builder
# --------------------------------------------------------------------------------------------

class Graph:
    """Accumulates nodes, inputs and initializers; `build` returns the checked model.

    Node names follow torch.onnx's style (`/scope/Op`, `/scope/Op_1`), tensor names are the node
    name plus `_output_N`, so engine error messages look like they will on real exports.
    """

    def __init__(self, name: str, opset: int = 17, domains: dict[str, int] | None = None):
        self.name, self.opset = name, opset
        self.domains = domains or {}
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.nodes: list[onnx.NodeProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.scope = ""
        self._names: set[str] = set()

    def _unique(self, base: str) -> str:
        name, i = base, 0
        while name in self._names:
            i += 1
            name = f"{base}_{i}"
        self._names.add(name)
        return name

    def input(self, name: str, shape: Sequence[int], dtype=F32, dist: str = "") -> str:
        """A graph input; `dist` tells `sample_inputs` how to draw it ("uniform LO HI", "int LO HI")."""
        vi = helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), list(shape))
        vi.doc_string = dist
        self.inputs.append(vi)
        return name

    def const(self, value, dtype=None, name: str | None = None) -> str:
        """An initializer holding `value` (float32 unless it is an integer/bool array or dtype says)."""
        arr = np.asarray(value, dtype=dtype)
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(F32)
        elif dtype is None and arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        name = self._unique(name or f"{self.scope_prefix()}c{len(self.inits)}")
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def uniform(self, shape, lo=-1.0, hi=1.0) -> str:
        return self.const(self.rng.uniform(lo, hi, shape))

    def normal(self, shape, std=1.0, mean=0.0) -> str:
        return self.const(self.rng.normal(mean, std, shape))

    def he(self, shape: Sequence[int], fan_in: int | None = None, gain: float = 2.0) -> str:
        """He-normal weights: keeps activations of deep random nets in range."""
        fan_in = fan_in or int(np.prod(shape[1:]))
        return self.normal(shape, np.sqrt(gain / fan_in))

    def scope_prefix(self) -> str:
        return f"/{self.scope}/" if self.scope else "/"

    def node(self, op: str, *inputs: str | None, outs: int = 1, out: str | Sequence[str] | None = None,
             domain: str = "", name: str | None = None, **attrs):
        """Adds one node; None inputs are omitted optional inputs. Returns its output name(s)."""
        name = self._unique(name or f"{self.scope_prefix()}{op}")
        if out is None:
            outputs = [f"{name}_output_{i}" for i in range(outs)]
        else:
            outputs = [out] if isinstance(out, str) else list(out)
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(helper.make_node(op, ["" if i is None else i for i in inputs], outputs, name=name,
                                           domain=domain, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def build(self, *outputs: str) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, self.name, self.inputs,
                                  [helper.make_empty_tensor_value_info(o) for o in outputs], self.inits)
        opsets = [helper.make_opsetid("", self.opset)] + [helper.make_opsetid(d, v) for d, v in self.domains.items()]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="vigil-tests")
        model.ir_version = helper.find_min_ir_version_for(opsets[:1])
        if self.domains:  # no shape inference through an unknown domain: outputs typed like input 0
            for o in model.graph.output:
                o.type.CopyFrom(self.inputs[0].type)
            onnx.checker.check_model(model)
            return model
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
        outs = {o.name for o in model.graph.output}
        typed = outs | {vi.name for vi in model.graph.value_info}
        untyped = [n.name for n in model.graph.node if not set(n.output) - {""} <= typed]
        assert not untyped, f"{self.name}: shape inference stopped at {untyped[:3]} (operator not in opset {self.opset}?)"
        kept = [vi for vi in model.graph.value_info if vi.name not in outs]
        del model.graph.value_info[:]
        model.graph.value_info.extend(kept)
        onnx.checker.check_model(model, full_check=True)
        return model


# --------------------------------------------------------------------------------------------
# One model per operator variant
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class In:
    """A graph input of a single-node model."""
    shape: tuple
    dist: str = ""
    dtype: type = F32


@dataclass(frozen=True)
class Rand:
    """A random float32 initializer, uniform in [lo, hi)."""
    shape: tuple
    lo: float = -1.0
    hi: float = 1.0


@dataclass(frozen=True)
class OpCase:
    op: str
    inputs: tuple
    attrs: dict
    opset: int = 17
    outs: int = 1


OP_CASES: dict[str, OpCase] = {}


def case(name: str, op: str, *inputs, opset: int = 17, outs: int = 1, **attrs) -> None:
    """Registers a single-node model: inputs are In (graph input), Rand (random weights), arrays
    or lists (fixed initializers; integer lists become int64) or None (an omitted optional input)."""
    assert name not in OP_CASES, name
    OP_CASES[name] = OpCase(op, inputs, attrs, opset, outs)


def op_model(name: str) -> onnx.ModelProto:
    spec = OP_CASES[name]
    g = Graph(name, spec.opset)
    names = []
    for i, x in enumerate(spec.inputs):
        if x is None:
            names.append(None)
        elif isinstance(x, In):
            names.append(g.input(f"x{i}", x.shape, x.dtype, x.dist))
        elif isinstance(x, Rand):
            names.append(g.uniform(x.shape, x.lo, x.hi))
        else:
            names.append(g.const(x))
    outs = g.node(spec.op, *names, outs=spec.outs, **spec.attrs)
    return g.build(*([outs] if isinstance(outs, str) else outs))


IMG = (1, 3, 13, 17)     # odd spatial sizes everywhere
T4 = (2, 5, 7, 9)
POS = "uniform 0.05 4"   # for Log, Sqrt, Pow bases, divisors
TIES = "int 0 3"         # integer-valued floats: ties for ArgMax, hits for Equal


def _conv_cases() -> None:
    x = In(IMG)
    for name, w, attrs, bias, xin in [
        ("3x3_pad1", (4, 3, 3, 3), dict(pads=[1, 1, 1, 1]), True, x),
        ("3x3_nopad_nobias", (4, 3, 3, 3), {}, False, x),
        ("kernel_shape_attr", (4, 3, 3, 3), dict(kernel_shape=[3, 3], pads=[0, 1, 0, 1]), True, x),
        ("strides_asym_pads", (6, 3, 3, 5), dict(strides=[2, 3], pads=[1, 2, 0, 1]), True, x),
        ("dilations", (4, 3, 3, 3), dict(dilations=[2, 3], pads=[2, 1, 2, 3]), True, x),
        ("groups2", (8, 3, 3, 3), dict(group=2, pads=[1, 1, 1, 1]), True, In((1, 6, 13, 17))),
        ("groups3_stride2_batch2", (9, 2, 3, 3), dict(group=3, strides=[2, 2]), True, In((2, 6, 11, 9))),
        ("depthwise", (8, 1, 3, 3), dict(group=8, pads=[1, 1, 1, 1]), True, In((1, 8, 13, 17))),
        ("depthwise_stride2", (8, 1, 3, 3), dict(group=8, strides=[2, 2], pads=[1, 1, 1, 1]), False, In((1, 8, 13, 17))),
        ("depthwise_multiplier2", (8, 1, 3, 3), dict(group=4, pads=[1, 1, 1, 1]), True, In((1, 4, 13, 17))),
        ("depthwise_5x5_dilated", (6, 1, 5, 5), dict(group=6, dilations=[2, 2], pads=[4, 4, 4, 4]), True, In((1, 6, 13, 17))),
        ("same_upper_stride2", (4, 3, 4, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2]), True, x),
        ("same_lower_stride2", (4, 3, 4, 3), dict(auto_pad="SAME_LOWER", strides=[2, 2]), True, x),
        ("same_upper_even_kernel", (4, 3, 2, 4), dict(auto_pad="SAME_UPPER"), False, x),
        ("same_lower_even_kernel", (4, 3, 2, 4), dict(auto_pad="SAME_LOWER"), False, x),
        ("valid_stride2", (4, 3, 3, 3), dict(auto_pad="VALID", strides=[2, 2]), True, x),
        ("1x1", (8, 3, 1, 1), {}, True, x),
        ("1x1_nobias_batch2", (3, 5, 1, 1), {}, False, In(T4)),
        ("1x1_stride2", (8, 3, 1, 1), dict(strides=[2, 2]), True, x),
        ("3x3_batch2", (3, 5, 3, 3), dict(pads=[1, 1, 1, 1]), True, In(T4)),
        ("7x7_stride2_stem", (8, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3]), False, In((1, 3, 29, 31))),
    ]:
        b = [Rand((w[0],))] if bias else []
        case(f"conv_{name}", "Conv", xin, Rand(w), *b, **attrs)


def _conv_transpose_cases() -> None:
    x = In((1, 4, 5, 7))
    for name, w, attrs, bias, xin in [
        ("basic", (4, 3, 3, 3), {}, True, x),
        ("stride2_pads_outpad", (4, 3, 3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]), True, x),
        ("k4_s2_p1_nobias", (4, 6, 4, 4), dict(strides=[2, 2], pads=[1, 1, 1, 1]), False, x),
        ("asym_strides_pads", (4, 2, 3, 4), dict(strides=[3, 2], pads=[0, 1, 2, 0], output_padding=[2, 1]), True, x),
        ("groups3_stride2", (6, 2, 3, 3), dict(group=3, strides=[2, 2]), True, In((1, 6, 5, 7))),
        ("dilations", (4, 3, 3, 3), dict(dilations=[2, 2], pads=[1, 1, 1, 1]), False, In((2, 4, 5, 7))),
    ]:
        b = [Rand((w[1] * attrs.get("group", 1),))] if bias else []
        case(f"convtranspose_{name}", "ConvTranspose", xin, Rand(w), *b, **attrs)


def _elementwise_cases() -> None:
    case("batchnorm", "BatchNormalization", In(T4), Rand((5,), 0.5, 1.5), Rand((5,)), Rand((5,)),
         Rand((5,), 0.5, 2.0), epsilon=1e-3, opset=15)
    case("batchnorm_opset9", "BatchNormalization", In(T4), Rand((5,), 0.5, 1.5), Rand((5,)), Rand((5,)),
         Rand((5,), 0.5, 2.0), opset=9)
    wide = In(T4, "uniform -6 6")
    for op, attrs in [("Relu", {}), ("LeakyRelu", {}), ("LeakyRelu", dict(alpha=0.2)), ("Sigmoid", {}),
                      ("HardSigmoid", {}), ("HardSigmoid", dict(alpha=0.25, beta=0.4)), ("HardSwish", {}),
                      ("Tanh", {})]:
        suffix = "".join(f"_{k}{v}" for k, v in attrs.items())
        case(f"{op.lower()}{suffix}", op, wide, **attrs)
    case("clip_min_max", "Clip", wide, np.float32(0), np.float32(6))
    case("clip_min_only", "Clip", wide, np.float32(-1.5))
    case("clip_max_only", "Clip", wide, None, np.float32(2.5))
    case("clip_no_bounds", "Clip", wide)
    case("clip_opset9_attrs", "Clip", wide, min=-1.0, max=2.0, opset=9)
    case("clip_opset9_max_attr", "Clip", wide, max=0.5, opset=9)
    for op in ("Sqrt", "Log"):
        case(op.lower(), op, In(T4, "uniform 0.01 10"))
    case("exp", "Exp", In(T4, "uniform -10 10"))
    # Broadcasting of the right-hand side (the left one for scalar_left). Divisors stay in [0.5, 2),
    # Pow bases are positive and exponents in [-2, 2).
    for op, lhs, (lo, hi) in [("Add", "", (-1, 1)), ("Sub", "", (-1, 1)), ("Mul", "", (-1, 1)),
                              ("Div", "", (0.5, 2)), ("Pow", POS, (-2, 2))]:
        rhs = f"uniform {lo} {hi}"
        for name, a, b in [
            ("same", In(T4, lhs), In(T4, rhs)),
            ("scalar", In(T4, lhs), Rand((), lo, hi)),
            ("scalar_left", Rand((), 0.5, 2.0), In(T4, rhs)),
            ("row", In(T4, lhs), Rand((9,), lo, hi)),
            ("column", In(T4, lhs), Rand((7, 1), lo, hi)),
            ("channel", In(T4, lhs), Rand((5, 1, 1), lo, hi)),
            ("bidirectional", In((2, 1, 7, 1), lhs), In((1, 5, 1, 9), rhs)),
        ]:
            case(f"{op.lower()}_{name}", op, a, b)
    case("pow_square", "Pow", In(T4), np.float32(2))
    case("pow_half", "Pow", In(T4, POS), np.float32(0.5))
    case("pow_int64_exponent", "Pow", In(T4), np.int64(3))


def _pool_cases() -> None:
    x = In(IMG)
    for name, attrs in [
        ("k3_s2_p1", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
        ("k2x3_s1x2", dict(kernel_shape=[2, 3], strides=[1, 2])),
        ("k3_dilations2", dict(kernel_shape=[3, 3], dilations=[2, 2])),
        ("k3_s2_ceil", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
        ("k2_s2_ceil_asym_pads", dict(kernel_shape=[2, 2], strides=[2, 2], pads=[1, 0, 0, 1], ceil_mode=1)),
        ("k5_s1_p2_sppf", dict(kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2])),
        ("same_upper_s2", dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")),
        ("same_lower_k2", dict(kernel_shape=[2, 2], auto_pad="SAME_LOWER")),
    ]:
        case(f"maxpool_{name}", "MaxPool", x, **attrs)
    for name, attrs in [
        ("k2_default", dict(kernel_shape=[2, 2])),
        ("k3_s2_p1_exclude_pad", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
        ("k3_s2_p1_include_pad", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)),
        ("k3_s2_ceil", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
        ("k3_s2_p1_ceil_include_pad", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
                                           count_include_pad=1)),
        ("k3_s2_p1_ceil_exclude_pad", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)),
        ("k2x4_asym_pads_include", dict(kernel_shape=[2, 4], strides=[2, 3], pads=[0, 2, 1, 0], count_include_pad=1)),
    ]:
        case(f"averagepool_{name}", "AveragePool", x, **attrs)
    case("globalaveragepool", "GlobalAveragePool", x)
    case("globalaveragepool_batch2", "GlobalAveragePool", In(T4))


def _matrix_cases() -> None:
    for name, a, b, c, attrs in [
        ("bias_row", (5, 7), (7, 9), (9,), {}),
        ("transB", (5, 7), (9, 7), (9,), dict(transB=1)),
        ("transA", (7, 5), (7, 9), (1, 9), dict(transA=1)),
        ("transA_transB", (7, 5), (9, 7), (5, 9), dict(transA=1, transB=1)),
        ("alpha_beta_full_bias", (5, 7), (7, 9), (5, 9), dict(alpha=0.5, beta=2.0)),
        ("bias_column", (5, 7), (7, 9), (5, 1), {}),
        ("bias_scalar", (5, 7), (7, 9), (), dict(beta=-1.5)),
        ("no_bias", (5, 7), (7, 9), None, dict(alpha=1.5)),
        ("classifier", (2, 64), (10, 64), (10,), dict(transB=1)),
    ]:
        case(f"gemm_{name}", "Gemm", In(a), Rand(b), *([Rand(c)] if c is not None else []), **attrs)
    for name, a, b in [
        ("2d", In((5, 7)), Rand((7, 9))),
        ("3d_batched", In((3, 5, 7)), In((3, 7, 9))),
        ("4d_batched", In((2, 3, 5, 7)), Rand((2, 3, 7, 9))),
        ("4d_by_2d_weight", In((2, 3, 5, 7)), Rand((7, 9))),
        ("broadcast_batch", In((2, 1, 5, 7)), In((1, 3, 7, 9))),
        ("2d_by_3d", Rand((5, 7)), In((3, 7, 9))),
        ("1d_left", Rand((7,)), In((2, 7, 9))),
        ("1d_right", In((2, 5, 7)), Rand((7,))),
    ]:
        case(f"matmul_{name}", "MatMul", a, b)


def _shape_cases() -> None:
    x = In(T4)
    for axis in (0, 1, 2, 3, 4, -1):
        case(f"flatten_axis{axis}".replace("-", "neg"), "Flatten", x, axis=axis)
    for name, shape in [("zero_minus1", [0, -1]), ("minus1", [-1]), ("zeros_tail", [0, 0, 63]),
                        ("minus1_middle", [7, -1, 9]), ("extend", [2, 5, 7, 3, 3]), ("zero_minus1_3d", [0, 5, -1])]:
        case(f"reshape_{name}", "Reshape", x, shape)
    for perm in ((0, 2, 3, 1), (3, 1, 0, 2), (0, 1, 3, 2), None):
        case("transpose_" + ("".join(map(str, perm)) if perm else "default"), "Transpose", x, perm=perm)
    case("transpose_3d_102", "Transpose", In((5, 7, 9)), perm=[1, 0, 2])
    case("concat_axis1", "Concat", x, In((2, 3, 7, 9)), axis=1)
    case("concat_axis_neg1", "Concat", x, In((2, 5, 7, 4)), axis=-1)
    case("concat_axis0_with_weight", "Concat", x, Rand((1, 5, 7, 9)), axis=0)
    case("concat_three_axis_neg3", "Concat", x, In((2, 1, 7, 9)), Rand((2, 2, 7, 9)), axis=-3)
    s = In((2, 6, 7, 9))
    case("split_equal_axis1", "Split", s, outs=3, axis=1, opset=13)
    case("split_sizes_input_axis1", "Split", s, [1, 3, 2], outs=3, axis=1, opset=13)
    case("split_sizes_input_axis_neg1", "Split", s, [2, 3, 4], outs=3, axis=-1, opset=17)
    case("split_num_outputs_uneven", "Split", s, outs=3, axis=2, num_outputs=3, opset=18)
    case("split_num_outputs_even", "Split", s, outs=2, axis=1, num_outputs=2, opset=18)
    for name, args in [
        ("axes", ([1, 2], [5, 8], [1, 3])),
        ("steps", ([0, 1], [7, 9], [2, 3], [2, 3])),
        ("negative_step_reverse", ([-1], [I64_MIN], [3], [-1])),
        ("negative_step2", ([6, 4], [0, 0], [2, 1], [-2, -3])),
        ("clamped_ends_negative_start", ([-3, 1], [I64_MAX, 1000], [3, 2])),
        ("default_axes", ([0, 1, 2, 3], [1, 4, 6, 8])),
        ("negative_axes", ([1, -4], [-1, 100], [-1, -2])),
    ]:
        case(f"slice_{name}", "Slice", x, *args, opset=13)
    sq = In((2, 1, 7, 1))
    case("squeeze_opset11_axes_attr", "Squeeze", sq, axes=[1, 3], opset=11)
    case("squeeze_opset11_all", "Squeeze", sq, opset=11)
    case("squeeze_opset13_axes_input", "Squeeze", sq, [-1], opset=13)
    case("squeeze_opset13_all", "Squeeze", sq, opset=13)
    case("unsqueeze_opset11_axes_attr", "Unsqueeze", In((2, 5, 7)), axes=[0, 3], opset=11)
    case("unsqueeze_opset13_axes_input", "Unsqueeze", In((2, 5, 7)), [-1, 1], opset=13)
    for name, inputs, attrs in [
        ("constant_value", ([0, 0, 1, 2, 0, 0, 3, 1], np.float32(1.5)), {}),
        ("constant_default", ([0, 1, 1, 2, 1, 0, 3, 1],), {}),
        ("reflect", ([0, 0, 2, 3, 0, 0, 1, 2],), dict(mode="reflect")),
        ("edge", ([0, 0, 2, 3, 0, 0, 1, 2],), dict(mode="edge")),
        ("negative_crop", ([0, 0, -1, 2, 0, 0, 1, -2],), {}),
    ]:
        case(f"pad_{name}", "Pad", x, *inputs, opset=13, **attrs)
    case("pad_opset18_axes_input", "Pad", x, [1, 2, 3, 0], None, [2, -1], opset=18, mode="reflect")
    case("pad_opset9_attrs", "Pad", x, pads=[0, 0, 1, 2, 0, 0, 2, 1], value=-0.5, opset=9)


def _resize_cases() -> None:
    x = In((1, 2, 5, 7))
    sizes = [1, 2, 12, 11]   # 2.4x and 1.57x: non-integer ratios exercise the rounding modes
    for nearest in ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"):
        for coord in ("asymmetric", "half_pixel", "align_corners", "pytorch_half_pixel"):
            case(f"resize_nearest_{nearest}_{coord}_sizes", "Resize", x, None, None, sizes, mode="nearest",
                 nearest_mode=nearest, coordinate_transformation_mode=coord, opset=13)
    case("resize_nearest_x2_asymmetric_floor", "Resize", In((1, 3, 5, 7)), None, np.float32([1, 1, 2, 2]),
         mode="nearest", nearest_mode="floor", coordinate_transformation_mode="asymmetric", opset=13)
    case("resize_nearest_down_scales", "Resize", In((1, 2, 13, 17)), None, np.float32([1, 1, 0.6, 0.5]),
         mode="nearest", opset=13)
    for coord in ("asymmetric", "half_pixel", "align_corners", "pytorch_half_pixel"):
        case(f"resize_linear_{coord}_sizes", "Resize", x, None, None, sizes, mode="linear",
             coordinate_transformation_mode=coord, opset=13)
        case(f"resize_linear_{coord}_scales", "Resize", x, None, np.float32([1, 1, 1.7, 0.6]), mode="linear",
             coordinate_transformation_mode=coord, opset=13)
    case("resize_linear_pytorch_half_pixel_to_1", "Resize", x, None, None, [1, 2, 1, 11], mode="linear",
         coordinate_transformation_mode="pytorch_half_pixel", opset=13)
    case("resize_linear_x2_opset17", "Resize", x, None, np.float32([1, 1, 2, 2]), mode="linear", opset=17)


def _reduce_cases() -> None:
    x = In(T4, "uniform -10 10")
    for opset, axis in [(13, None), (13, 1), (13, -3), (11, 1), (11, None), (11, -1), (11, 2)]:
        # opset < 13: the input is coerced to 2-D at `axis` (default 1) and normalised over the tail.
        case(f"softmax_opset{opset}_axis{'default' if axis is None else axis}".replace("-", "neg"), "Softmax", x,
             axis=axis, opset=opset)
    for op in ("ReduceMean", "ReduceMax"):
        for name, axes, keep in [("axes1_keep", [1], 1), ("axes23_keep", [2, 3], 1), ("axes_neg1_drop", [-1], 0),
                                 ("all_drop", None, 0), ("all_keep", None, 1)]:
            case(f"{op.lower()}_attr_{name}", op, x, axes=axes, keepdims=keep, opset=17)
        case(f"{op.lower()}_input_axes23_keep", op, x, [2, 3], keepdims=1, opset=18)
        case(f"{op.lower()}_input_axes1_drop", op, x, [1], keepdims=0, opset=18)
    ties = In(T4, TIES)
    for axis, keep, last in [(1, 1, 0), (-1, 0, 0), (1, 0, 1), (2, 1, 1), (0, 1, 0)]:
        case(f"argmax_axis{axis}_keep{keep}_last{last}".replace("-", "neg"), "ArgMax", ties, axis=axis,
             keepdims=keep, select_last_index=last, opset=13)


def _misc_cases() -> None:
    x = In(T4)
    case("shape", "Shape", x)
    case("shape_start_end", "Shape", x, start=1, end=-1, opset=15)
    case("gather_axis0", "Gather", x, [1, 0, 1], axis=0)
    case("gather_axis1_2d_negative_indices", "Gather", x, [[0, 4], [-1, 2]], axis=1)
    case("gather_scalar_index_last_axis", "Gather", x, np.int64(3), axis=-1)
    case("gather_int32_indices", "Gather", x, np.int32([6, 0, 3]), axis=2)
    case("identity", "Identity", x)
    case("expand_column", "Expand", In((3, 1)), [2, 3, 4])
    case("expand_bidirectional", "Expand", In((1, 5, 1, 9)), [2, 1, 7, 1])
    case("equal_broadcast", "Equal", In(T4, TIES), In((9,), TIES))
    case("equal_int64", "Equal", In((2, 5), dtype=np.int64, dist="int 0 3"), np.int64(2))
    case("where_bool_input", "Where", In((7, 1), dtype=np.bool_), x, np.float32(-1))
    for to, name in [(TensorProto.INT64, "int64"), (TensorProto.INT32, "int32"), (TensorProto.BOOL, "bool")]:
        case(f"cast_float_to_{name}", "Cast", In(T4, "uniform -5 5"), to=to)
    case("cast_int64_to_float", "Cast", In((3, 4), dtype=np.int64, dist="int -100 100"), to=TensorProto.FLOAT)
    case("cast_bool_to_float", "Cast", In((3, 4), dtype=np.bool_), to=TensorProto.FLOAT)


for _add in (_conv_cases, _conv_transpose_cases, _elementwise_cases, _pool_cases, _matrix_cases, _shape_cases,
             _resize_cases, _reduce_cases, _misc_cases):
    _add()


# Small graphs for what one node cannot show (dynamic shape chains, constants, odd names).

def shape_chain() -> onnx.ModelProto:
    """torch.flatten as older exporters wrote it: Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    g = Graph("shape_chain")
    x = g.input("x", T4)
    n = g.node("Gather", g.node("Shape", x), g.const(np.int64(0)), axis=0)
    shape = g.node("Concat", g.node("Unsqueeze", n, g.const([0])), g.const([-1]), axis=0)
    return g.build(g.node("Reshape", g.node("Relu", x), shape, out="flat"))


def constants() -> onnx.ModelProto:
    """Constant (tensor, value_float, value_ints), ConstantOfShape of a Shape, Range, Expand."""
    g = Graph("constants")
    x = g.input("x", T4)
    t = g.node("Constant", value=numpy_helper.from_array(g.rng.normal(size=(7, 9)).astype(F32)))
    half = g.node("Constant", value_float=0.5)
    y = g.node("Mul", g.node("Add", x, t), half)
    fill = g.node("ConstantOfShape", g.node("Shape", x), value=numpy_helper.from_array(np.float32([0.25])))
    y = g.node("Sub", y, fill)
    r = g.node("Range", g.const(np.float32(0.5)), g.const(np.float32(6.9)), g.const(np.float32(0.7)))  # 10
    shape = g.node("Constant", value_ints=[2, 5, 1, 1])
    ramp = g.node("Expand", g.node("Slice", r, g.const([0]), g.const([9])), shape)
    idx = g.node("Range", g.const(np.int64(8)), g.const(np.int64(-1)), g.const(np.int64(-3)))  # 8 5 2
    picked = g.node("Gather", g.node("Add", y, ramp), idx, axis=3, out="picked")
    ints = g.node("ConstantOfShape", g.const([2, 3]), value=numpy_helper.from_array(np.int64([7])), out="sevens")
    return g.build(picked, ints, idx)


def odd_names() -> onnx.ModelProto:
    """Output names with `/`, `\\`, `:` and `.`; an output that is also consumed; a pass-through."""
    g = Graph("odd_names")
    x = g.input("images:0", IMG)
    a = g.node("Relu", x, out="backbone/stage.1\\relu:0")
    b = g.node("Sigmoid", g.node("Identity", a), out="head/scores")
    return g.build(a, b, g.node("Identity", x, out="passthrough"))


def equal_where() -> onnx.ModelProto:
    g = Graph("equal_where")
    a, b = g.input("a", T4, dist=TIES), g.input("b", (7, 1), dist=TIES)
    eq = g.node("Equal", a, b, out="eq")
    return g.build(eq, g.node("Where", eq, a, g.uniform((9,)), out="picked"))


GRAPH_CASES: dict[str, Callable[[], onnx.ModelProto]] = {
    "shape_chain": shape_chain, "constants": constants, "odd_names": odd_names, "equal_where": equal_where}


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------

def _conv(g: Graph, x: str, cin: int, cout: int, k: int, s: int = 1, group: int = 1, bias: bool = True,
          pad: int | None = None) -> str:
    p = k // 2 if pad is None else pad
    w = g.he((cout, cin // group, k, k))
    b = [g.normal((cout,), 0.1)] if bias else []
    return g.node("Conv", x, w, *b, kernel_shape=[k, k], strides=[s, s], pads=[p] * 4, dilations=[1, 1],
                  group=group)


def _bn(g: Graph, x: str, c: int) -> str:
    return g.node("BatchNormalization", x, g.uniform((c,), 0.5, 1.5), g.normal((c,), 0.1), g.normal((c,), 0.1),
                  g.uniform((c,), 0.5, 1.5), epsilon=1e-5, momentum=0.9)


def resnet_style(input: int = 224, classes: int = 1000) -> onnx.ModelProto:
    """ResNet-18 topology as torchvision exports it without folding: Conv (no bias) + BatchNormalization."""
    g = Graph(f"resnet_style_{input}", opset=17)
    x = g.input("input", (1, 3, input, input))

    def conv_bn(x, cin, cout, k, s, relu):
        y = _bn(g, _conv(g, x, cin, cout, k, s, bias=False), cout)
        return g.node("Relu", y) if relu else y

    g.scope = "stem"
    x = conv_bn(x, 3, 64, 7, 2, True)
    x = g.node("MaxPool", x, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, cout in enumerate((64, 128, 256, 512), 1):
        for block in range(2):
            g.scope = f"layer{stage}/{block}"
            s = 2 if block == 0 and stage > 1 else 1
            y = conv_bn(conv_bn(x, cin, cout, 3, s, True), cout, cout, 3, 1, False)
            short = conv_bn(x, cin, cout, 1, s, False) if (s != 1 or cin != cout) else x
            x, cin = g.node("Relu", g.node("Add", y, short)), cout
    g.scope = "head"
    x = g.node("Flatten", g.node("GlobalAveragePool", x), axis=1)
    return g.build(g.node("Gemm", x, g.he((classes, 512), gain=1.0), g.normal((classes,), 0.01), transB=1,
                          out="logits"))


def mobilenet_style(input: int = 224, classes: int = 1000, opset: int = 13) -> onnx.ModelProto:
    """MobileNetV2/V3-like, BN folded: inverted residuals (1x1 expand, depthwise 3x3, 1x1 project) with
    Clip(0, 6) (ReLU6) or hard-swish, squeeze-excite blocks (HardSigmoid gate), residual Adds.

    HardSwish is an operator from opset 14 on; at opset 13 it is HardSigmoid(1/6, 0.5) * x, the way
    torch.onnx exports it there."""
    g = Graph(f"mobilenet_style_{input}_opset{opset}", opset=opset)
    x = g.input("input", (1, 3, input, input))
    zero, six = g.const(np.float32(0)), g.const(np.float32(6))

    def act(y, kind):
        if kind == "relu6":
            return g.node("Clip", y, zero, six)
        if opset >= 14:
            return g.node("HardSwish", y)
        return g.node("Mul", y, g.node("HardSigmoid", y, alpha=1 / 6, beta=0.5))

    def se(y, c):
        s = g.node("Relu", _conv(g, g.node("GlobalAveragePool", y), c, c // 4, 1))
        s = g.node("HardSigmoid", _conv(g, s, c // 4, c, 1), alpha=1 / 6, beta=0.5)
        return g.node("Mul", y, s)

    g.scope = "stem"
    x, cin = act(_conv(g, x, 3, 16, 3, 2), "hswish"), 16
    # (expansion, out channels, stride, activation, squeeze-excite)
    for i, (t, c, s, kind, use_se) in enumerate([
            (1, 16, 1, "relu6", False), (4, 24, 2, "relu6", False), (3, 24, 1, "relu6", False),
            (3, 40, 2, "hswish", True), (3, 40, 1, "hswish", True), (6, 80, 2, "hswish", False),
            (6, 80, 1, "hswish", False), (6, 112, 1, "hswish", True), (6, 160, 2, "hswish", True)]):
        g.scope = f"features.{i}"
        hidden = cin * t
        y = act(_conv(g, x, cin, hidden, 1), kind) if t != 1 else x
        y = act(_conv(g, y, hidden, hidden, 3, s, group=hidden), kind)
        if use_se:
            y = se(y, hidden)
        y = _conv(g, y, hidden, c, 1)
        x, cin = (g.node("Add", x, y) if s == 1 and cin == c else y), c
    g.scope = "head"
    x = act(_conv(g, x, cin, 576, 1), "hswish")
    x = g.node("Flatten", g.node("GlobalAveragePool", x), axis=1)
    return g.build(g.node("Gemm", x, g.he((classes, 576), gain=1.0), g.normal((classes,), 0.01), transB=1,
                          out="logits"))


def yolov8n_style(size: int = 320, opset: int = 17, classes: int = 80) -> onnx.ModelProto:
    """YOLOv8n as ultralytics exports it (BN folded into Conv biases, SiLU as Sigmoid + Mul), with the
    decoded Detect head: output (1, 4 + classes, A), rows cx, cy, w, h in pixels then class scores."""
    assert size % 32 == 0 and 13 <= opset
    g = Graph(f"yolov8n_{size}_opset{opset}", opset=opset)
    x = g.input("images", (1, 3, size, size))

    def conv(x, cin, cout, k=1, s=1, name="conv"):
        scope = g.scope
        g.scope = f"{scope}/{name}"
        y = _conv(g, x, cin, cout, k, s)
        y = g.node("Mul", y, g.node("Sigmoid", y))
        g.scope = scope
        return y

    def c2f(x, cin, cout, n, shortcut):
        c = cout // 2
        a, b = g.node("Split", conv(x, cin, 2 * c, name="cv1"), g.const([c, c]), axis=1, outs=2)
        ys = [a, b]
        for i in range(n):
            y = conv(conv(ys[-1], c, c, 3, name=f"m.{i}/cv1"), c, c, 3, name=f"m.{i}/cv2")
            ys.append(g.node("Add", ys[-1], y) if shortcut else y)
        return conv(g.node("Concat", *ys, axis=1), (2 + n) * c, cout, name="cv2")

    def sppf(x, cin, cout):
        c = cin // 2
        ys = [conv(x, cin, c, name="cv1")]
        for _ in range(3):
            ys.append(g.node("MaxPool", ys[-1], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2],
                             dilations=[1, 1], ceil_mode=0))
        return conv(g.node("Concat", *ys, axis=1), 4 * c, cout, name="cv2")

    def up(x):
        return g.node("Resize", x, None, g.const(np.float32([1, 1, 2, 2])), mode="nearest",
                      coordinate_transformation_mode="asymmetric", nearest_mode="floor",
                      cubic_coeff_a=-0.75)

    layers: list[str] = []

    def layer(fn, *args):
        g.scope = f"model.{len(layers)}"
        layers.append(fn(*args))
        return layers[-1]

    # Backbone
    layer(conv, x, 3, 16, 3, 2)
    layer(conv, layers[-1], 16, 32, 3, 2)
    layer(c2f, layers[-1], 32, 32, 1, True)
    layer(conv, layers[-1], 32, 64, 3, 2)
    p3 = layer(c2f, layers[-1], 64, 64, 2, True)
    layer(conv, p3, 64, 128, 3, 2)
    p4 = layer(c2f, layers[-1], 128, 128, 2, True)
    layer(conv, p4, 128, 256, 3, 2)
    layer(c2f, layers[-1], 256, 256, 1, True)
    p5 = layer(sppf, layers[-1], 256, 256)
    # Neck (PAN-FPN)
    layer(up, p5)
    layer(lambda: g.node("Concat", layers[-1], p4, axis=1))
    h12 = layer(c2f, layers[-1], 384, 128, 1, False)
    layer(up, h12)
    layer(lambda: g.node("Concat", layers[-1], p3, axis=1))
    out3 = layer(c2f, layers[-1], 192, 64, 1, False)
    layer(conv, out3, 64, 64, 3, 2)
    layer(lambda: g.node("Concat", layers[-1], h12, axis=1))
    out4 = layer(c2f, layers[-1], 192, 128, 1, False)
    layer(conv, out4, 128, 128, 3, 2)
    layer(lambda: g.node("Concat", layers[-1], p5, axis=1))
    out5 = layer(c2f, layers[-1], 384, 256, 1, False)

    # Detect head
    g.scope = f"model.{len(layers)}"
    reg_max, strides = 16, (8, 16, 32)
    c2, c3 = max(16, 64 // 4, reg_max * 4), max(64, min(classes, 100))
    flat = []
    for i, (feat, ch) in enumerate(zip((out3, out4, out5), (64, 128, 256))):
        box = conv(conv(feat, ch, c2, 3, name=f"cv2.{i}.0"), c2, c2, 3, name=f"cv2.{i}.1")
        box = _conv(g, box, c2, 4 * reg_max, 1)
        cls = conv(conv(feat, ch, c3, 3, name=f"cv3.{i}.0"), c3, c3, 3, name=f"cv3.{i}.1")
        cls = _conv(g, cls, c3, classes, 1)
        flat.append(g.node("Reshape", g.node("Concat", box, cls, axis=1), g.const([1, 4 * reg_max + classes, -1])))
    anchors, stride_row = _anchors(size, strides)
    a = anchors.shape[1]
    cat = g.node("Concat", *flat, axis=2)
    box, cls = g.node("Split", cat, g.const([4 * reg_max, classes]), axis=1, outs=2)
    # DFL: softmax over the 16 bins of each side, expectation via a fixed 1x1 conv with weights 0..15
    d = g.node("Transpose", g.node("Reshape", box, g.const([1, 4, reg_max, a])), perm=[0, 2, 1, 3])
    d = g.node("Softmax", d, axis=1)
    d = g.node("Conv", d, g.const(np.arange(reg_max, dtype=F32).reshape(1, reg_max, 1, 1)), kernel_shape=[1, 1])
    d = g.node("Reshape", d, g.const([1, 4, a]))
    lt, rb = g.node("Split", d, g.const([2, 2]), axis=1, outs=2)
    anchor = g.const(anchors[None])
    x1y1, x2y2 = g.node("Sub", anchor, lt), g.node("Add", anchor, rb)
    cxy = g.node("Div", g.node("Add", x1y1, x2y2), g.const(np.float32(2)))
    dbox = g.node("Mul", g.node("Concat", cxy, g.node("Sub", x2y2, x1y1), axis=1), g.const(stride_row[None]))
    return g.build(g.node("Concat", dbox, g.node("Sigmoid", cls), axis=1, out="output0"))


def _anchors(size: int, strides: Sequence[int], offset: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """ultralytics make_anchors: grid cell centres (2, A) in feature units, and the stride of each."""
    points, stride_of = [], []
    for s in strides:
        h = w = size // s
        sy, sx = np.meshgrid(np.arange(h) + offset, np.arange(w) + offset, indexing="ij")
        points.append(np.stack([sx.ravel(), sy.ravel()]))
        stride_of.append(np.full(h * w, s))
    return np.concatenate(points, 1).astype(F32), np.concatenate(stride_of)[None].astype(F32)


def opset9_net(input: int = 64, classes: int = 10) -> onnx.ModelProto:
    """An older model-zoo style classifier at opset 9: Conv, BatchNormalization (unfolded), Relu,
    MaxPool, Pad and Clip with attributes, Flatten, Gemm, Softmax (2-D). Opset 9 has no Resize."""
    g = Graph(f"opset9_net_{input}", opset=9)
    x = g.input("data", (1, 3, input, input))
    cin = 3
    for i, cout in enumerate((16, 32, 64)):
        g.scope = f"block{i}"
        x = g.node("Relu", _bn(g, _conv(g, x, cin, cout, 3), cout))
        x = g.node("MaxPool", x, kernel_shape=[2, 2], strides=[2, 2])
        cin = cout
    x = g.node("Pad", x, pads=[0, 0, 1, 1, 0, 0, 1, 1], mode="edge")
    x = g.node("Clip", _conv(g, x, cin, cin, 3, pad=0), min=0.0, max=6.0)
    x = g.node("AveragePool", x, kernel_shape=[2, 2], strides=[2, 2])
    x = g.node("Flatten", x, axis=1)
    feat = cin * (input // 16) ** 2
    x = g.node("Gemm", x, g.he((feat, classes), gain=1.0), g.normal((classes,), 0.1), out="fc")
    return g.build(g.node("Softmax", x, axis=1, out="prob"))


def unsupported_models() -> dict[str, tuple[onnx.ModelProto, str, str, str | None]]:
    """Models the engine must refuse at load: name -> (model, operator, node name, attribute or None)."""
    lstm = Graph("unsupported_lstm")
    x = lstm.input("x", (5, 1, 8))
    lstm.node("LSTM", x, lstm.uniform((1, 64, 8)), lstm.uniform((1, 64, 16)), hidden_size=16, outs=3,
              name="/rnn/LSTM")
    custom = Graph("unsupported_domain", domains={"com.example.vigil": 1})
    y = custom.node("Relu", custom.input("x", IMG))
    custom.node("FancyNorm", y, domain="com.example.vigil", name="/neck/FancyNorm", epsilon=1e-5)
    cubic = Graph("unsupported_resize_cubic", opset=13)
    cubic.node("Resize", cubic.input("x", IMG), None, cubic.const(np.float32([1, 1, 2, 2])), mode="cubic",
               name="/up/Resize")
    return {"lstm": (lstm.build(lstm.nodes[-1].output[0]), "LSTM", "/rnn/LSTM", None),
            "custom_domain": (custom.build(custom.nodes[-1].output[0]), "FancyNorm", "/neck/FancyNorm", None),
            "resize_cubic": (cubic.build(cubic.nodes[-1].output[0]), "Resize", "/up/Resize", "mode")}


NETS: dict[str, Callable[[], onnx.ModelProto]] = {
    "resnet_style_224": lambda: resnet_style(224),
    "mobilenet_style_224": lambda: mobilenet_style(224),
    "mobilenet_style_224_opset14": lambda: mobilenet_style(224, opset=14),
    "yolov8n_320": lambda: yolov8n_style(320),
    "yolov8n_640": lambda: yolov8n_style(640),
    "yolov8n_320_opset13": lambda: yolov8n_style(320, opset=13),
    "opset9_net": opset9_net,
}


def all_models() -> dict[str, Callable[[], onnx.ModelProto]]:
    """Every model of this module by name (builders, not built: the networks take a while)."""
    ops = {name: (lambda name=name: op_model(name)) for name in OP_CASES}
    return {**ops, **GRAPH_CASES, **NETS}


# --------------------------------------------------------------------------------------------
# Inputs and FLOPs
# --------------------------------------------------------------------------------------------

def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    inits = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def sample_inputs(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """Random inputs following each input's doc_string ("uniform LO HI", "int LO HI"; default N(0, 1))."""
    rng = np.random.default_rng(seed)
    out = {}
    for vi in graph_inputs(model):
        t = vi.type.tensor_type
        dtype = helper.tensor_dtype_to_np_dtype(t.elem_type)
        shape = [d.dim_value for d in t.shape.dim]
        kind, *bounds = vi.doc_string.split() or ["normal"]
        if dtype == np.bool_:
            arr = rng.random(shape) < 0.5
        elif kind == "int":
            arr = rng.integers(int(bounds[0]), int(bounds[1]), shape, endpoint=True)
        elif kind == "uniform":
            arr = rng.uniform(float(bounds[0]), float(bounds[1]), shape)
        else:
            arr = rng.standard_normal(shape)
        out[vi.name] = np.asarray(arr).astype(dtype)
    return out


def _shapes(model: onnx.ModelProto, input_shapes: dict[str, Sequence[int]] | None) -> dict[str, list[int]]:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in graph_inputs(m):
        if input_shapes and vi.name in input_shapes:
            dims = vi.type.tensor_type.shape.dim
            del dims[:]
            for d in input_shapes[vi.name]:
                dims.add().dim_value = int(d)
    del m.graph.value_info[:]
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
    shapes = {t.name: list(t.dims) for t in m.graph.initializer}
    for vi in [*m.graph.input, *m.graph.value_info, *m.graph.output]:
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    return shapes


def flops(model: onnx.ModelProto, input_shapes: dict[str, Sequence[int]] | None = None) -> int:
    """2 * multiply-adds of Conv, ConvTranspose, Gemm and MatMul (bias additions not counted)."""
    shapes = _shapes(model, input_shapes)
    total = 0
    for n in model.graph.node:
        if n.op_type not in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
            continue
        a, w, y = shapes[n.input[0]], shapes[n.input[1]], shapes[n.output[0]]
        attrs = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        if n.op_type == "Conv":          # each output element: Cin/group * prod(kernel) MACs
            macs = np.prod(y) * np.prod(w[1:])
        elif n.op_type == "ConvTranspose":  # each input element scatters to Cout/group * prod(kernel)
            macs = np.prod(a) * np.prod(w[1:])
        elif n.op_type == "Gemm":
            macs = np.prod(y) * a[0 if attrs.get("transA", 0) else 1]
        else:
            macs = np.prod(y) * a[-1]
        total += 2 * int(macs)
    return total


def save(model: onnx.ModelProto, path, external_data: bool = False) -> None:
    onnx.save_model(model, str(path), save_as_external_data=external_data, all_tensors_to_one_file=True,
                    location=f"{path.name}.data" if external_data else None, size_threshold=0)


def _check_all() -> None:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    for name, build in all_models().items():
        model = build()
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        outs = sess.run(None, sample_inputs(model))
        assert all(np.all(np.isfinite(o)) for o in outs if o.dtype.kind == "f"), name
        if name in NETS:
            shapes = ", ".join(f"{o.name}{list(v.shape)}" for o, v in zip(sess.get_outputs(), outs))
            print(f"{name:22s} {flops(model) / 1e9:7.3f} GFLOP  opset {model.opset_import[0].version}  "
                  f"{len(model.graph.node)} nodes  -> {shapes}")
    for name, (model, *_) in unsupported_models().items():
        onnx.checker.check_model(model)
    print(f"{len(OP_CASES)} operator models, {len(GRAPH_CASES)} small graphs, {len(NETS)} networks: "
          "all pass onnx.checker and run in onnxruntime")


if __name__ == "__main__":
    _check_all()
