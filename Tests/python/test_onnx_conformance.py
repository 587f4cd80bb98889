"""The ONNX project's own node test cases through `vigil model run`.

Each case (model + inputs + expected outputs, from onnx.backend.test.case.node) that the
classification of conformance_cases.py calls supported runs in one vigil process per data set and
must match within the case's rtol/atol. The others are skipped with their reason, and the skip list
checked in as onnx_conformance_skips.txt must equal the classification, so it only changes on purpose
(update_conformance_skips.py rewrites it).

Run from the repository root:  .venv/bin/python -m pytest -q Tests/python/test_onnx_conformance.py
"""
from __future__ import annotations

from pathlib import Path

import onnx
import pytest

import conformance_cases as cc
from engine_harness import assert_close, output_names, vigil_run

CASES = cc.cases()
CLASSIFICATION = cc.classification()


def test_skip_list_matches_classification() -> None:
    want, have = cc.expected_skips(), cc.read_skips()
    diff = [f"+ {n}\t{want[n]}" for n in sorted(want) if have.get(n) != want[n]]
    diff += [f"- {n}\t{have[n]}" for n in sorted(have) if want.get(n) != have[n]]
    assert not diff, (f"{cc.SKIPS_FILE.name} differs from the classification ({len(diff)} lines; + expected, - in "
                      f"the file); run Tests/python/update_conformance_skips.py if the change is deliberate:\n"
                      + "\n".join(diff[:40]))
    assert cc.SKIPS_FILE.read_text() == cc.render_skips(want), \
        f"{cc.SKIPS_FILE.name} header is stale (onnx version?): run update_conformance_skips.py"


@pytest.mark.parametrize("name", sorted(CASES))
def test_node_case(name: str, tmp_path: Path) -> None:
    if CLASSIFICATION[name]:
        pytest.skip(CLASSIFICATION[name])
    case = CASES[name]
    path = tmp_path / "model.onnx"
    onnx.save_model(case.model, str(path))
    inits = {t.name for t in case.model.graph.initializer}
    in_names = [i.name for i in case.model.graph.input if i.name not in inits]
    outs = output_names(case.model)
    for k, (inputs, expected) in enumerate(case.data_sets):
        got = vigil_run(path, dict(zip(in_names, inputs)), tmp_path / f"out{k}", outs)
        for out, want in zip(outs, expected):
            assert_close(out, got[out], want, case.rtol, case.atol)
