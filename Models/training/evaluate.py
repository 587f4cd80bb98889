"""Scores an exported model with `vigil evaluate` on held-out scans and writes the figures.

    .venv/bin/python evaluate.py cargo-threat --version 1.0.0

Held-out sets use seeds never used in training (specs.HELD_OUT_SEED), for every profile the
model serves (the others are scanners it never saw in training), each in the normal and the
harder (`vigil synth --hard`: fuller loads, threats inside the goods, more clutter) variant.
Writes Models/<name>/<version>/evaluation.json; MODEL_CARD.md quotes it.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

from data import ROOT, VIGIL, synth
from specs import HELD_OUT_SEED, SPECS, VALIDATION_SEED


def installed(name, version, data: Path):
    """A models folder holding only this model, so the figures are its own."""
    models = data / f"installed-{name}-{version}"
    (models / name).mkdir(parents=True, exist_ok=True)
    link = models / name / version
    if not link.exists():
        link.symlink_to(ROOT / "Models" / name / version)
    return models


def calibrate(name, version, data: Path, count: int):
    """Threat models: sets each class's threshold to its share of the validation set's 1 %
    false-alarm point (vigil evaluate splits the budget equally between classes)."""
    spec = SPECS[name]
    if spec["targets"] != "objects":
        return None
    out = data / f"validation-{spec['kind']}-{spec['profile']}-{VALIDATION_SEED}-{count}"
    synth(spec["kind"], spec["profile"], count, VALIDATION_SEED, out)
    path = ROOT / "Models" / name / version / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["thresholds"] = {c: 0.05 for c in spec["classes"]}  # the report's floor; anything lower is never shown
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    report = json.loads(subprocess.run([str(VIGIL), "evaluate", "--images", str(out), "--models", str(installed(name, version, data))],
                                       check=True, capture_output=True, text=True).stdout)
    manifest["thresholds"] = {c: round(max(0.05, min(0.95, report["perClass"][c]["operatingThreshold"])), 3)
                              if c in report["perClass"] else 0.5 for c in spec["classes"]}
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{name}: thresholds {manifest['thresholds']} (validation seed {VALIDATION_SEED}, {count} scans)", file=sys.stderr)
    return manifest["thresholds"]


def evaluate(name, version, data: Path, count: int):
    spec = SPECS[name]
    results = {}
    # --hard changes cargo and parcel scenes (fuller loads, more clutter); vehicles have no harder variant yet.
    variants = (False, True) if spec["kind"] in ("cargo", "parcel") else (False,)
    for profile, hard in [(p, h) for p in spec["profiles"] for h in variants]:
        ct = json.loads((ROOT / "ScannerProfiles/vendors" / f"{profile}.json").read_text())["modality"] == "CT"
        # CT volumes are ~100x the pixels of a radiograph: fewer of them.
        kind, n = ("parcel-ct", max(20, count // 5)) if ct else (spec["kind"], count)
        out = data / f"heldout-{kind}-{profile}-{HELD_OUT_SEED}-{n}{'-hard' if hard else ''}"
        synth(kind, profile, n, HELD_OUT_SEED, out, hard=hard)
        models = installed(name, version, data)
        report = subprocess.run([str(VIGIL), "evaluate", "--images", str(out), "--models", str(models)],
                                check=True, capture_output=True, text=True).stdout
        key = profile + (" hard" if hard else "")
        results[key] = dict(json.loads(report), seenInTraining=profile == spec["profile"], hard=hard, seed=HELD_OUT_SEED)
        print(key, report.strip(), file=sys.stderr)
    path = ROOT / "Models" / name / version / "evaluation.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=sorted(SPECS))
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    p.add_argument("--no-calibrate", action="store_true", help="keep the manifest's thresholds")
    a = p.parse_args()
    if not a.no_calibrate:
        calibrate(a.model, a.version, a.data, a.count)
    evaluate(a.model, a.version, a.data, a.count)
