"""Writes Models/<name>/<version>/MODEL_CARD.md from the spec, the training log and evaluation.json.

    .venv/bin/python card.py cargo-threat --version 1.0.0

The figures are copied from what `vigil evaluate` printed; nothing here is typed by hand except
the known limits, which live in limits/<name>.md.
"""
import argparse
import json
from pathlib import Path

from data import ROOT
from specs import HELD_OUT_SEED, SPECS, VALIDATION_SEED


def pct(v):
    return "n/a" if v is None else f"{100 * v:.1f} %"


def num(v):
    return "n/a" if v is None else f"{v:.3f}"


def card(name, version):
    spec = SPECS[name]
    folder = ROOT / "Models" / name / version
    manifest = json.loads((folder / "manifest.json").read_text())
    evaluation = json.loads((folder / "evaluation.json").read_text())
    training = json.loads((folder / "training.json").read_text())
    tw, th = spec["tile"]
    lines = [
        f"# {name} {version}", "",
        spec["purpose"], "",
        "## Model", "",
        f"- Input `{manifest['input']['name']}`: {len(spec['channels'])} channels ({', '.join(spec['channels'])}), "
        f"log attenuation after the scanner profile's preprocessing, resampled to {spec['pitch_mm']:g} mm pixels, "
        f"tiles of {tw} x {th} with {spec['overlap']} px overlap.",
        f"- Output `{manifest['output']['name']}`: [1, 4 + {len(spec['classes'])}, cells], centre/size boxes in tile pixels "
        "and one probability per class (format `yolov8`, decoded in the graph).",
        f"- Classes: {', '.join(spec['classes'])}. Installed thresholds "
        + ", ".join(f"{c} {t}" for c, t in manifest["thresholds"].items())
        + (f" (each class's share of the 1 % false-alarm point on validation seed {VALIDATION_SEED}, 300 scans, chosen "
           "before the held-out figures below)" if spec["targets"] == "objects" else "") + f"; NMS IoU {manifest['nmsIoU']}.",
        f"- Architecture: small anchor-free detector (Models/training/model.py), three strides (8, 16, 32), "
        f"{training['parameters']:,} parameters, {training['onnxBytes'] / 1e6:.2f} MB ONNX (opset 17).",
        f"- Profiles served: {', '.join(spec['profiles'])}.", "",
        "## Training data", "",
        f"- {spec['train']['count']} synthetic `{spec['kind']}` scans from `vigil synth --kind {spec['kind']} --profile {spec['profile']} "
        f"--seed {spec['train']['seed']}` (the simulator of docs/simulator.md: NIST SRD 126 attenuation, Poisson noise, "
        "detector blur and gain, travel stretch), preprocessed by `vigil image preprocess` itself"
        + (f"; plus {spec['train_hard']['count']} of the harder kind (`--hard`, seed {spec['train_hard']['seed']})."
           if "train_hard" in spec else "."),
        f"- {training['steps']} steps of batch {spec['batch']}"
        + (f", random {spec['crop'][0]} x {spec['crop'][1]} crops (80 % around an object)" if spec["crop"] else ", whole padded images")
        + f", horizontal flips, per-channel gain x{spec.get('gain', (0.9, 1.1))[0]}-{spec.get('gain', (0.9, 1.1))[1]}, Gaussian noise"
        + (f", {int(100 * spec['single_energy'])} % single-energy (both channels their mean, as a CT projection arrives)"
           if spec.get("single_energy") else "")
        + "; AdamW, one-cycle learning rate 2e-3; "
        f"focal loss and GIoU loss. {training['seconds'] / 60:.0f} minutes on the 2-core CPU.",
        "- Reproduce: `make models` (or `Models/training/train.py`, `evaluate.py`, `card.py`; see Models/training/README.md).", "",
        "## Evaluation", "",
        f"Held-out scans, seed {HELD_OUT_SEED} (never used in training), scored by `vigil evaluate` with only this model installed. "
        "Detection rate: share of labelled objects found (a box of the same class with IoU >= 0.3; for CT volumes the IoU of "
        "box x slices) at per-class thresholds where together at most 1 % of clear scans alarm (the budget split equally "
        "between classes).", "",
    ]
    harder = {"cargo": "fuller loads, threats inside the goods, loose steel", "parcel": "three times the clutter"}[spec["kind"]] \
        if spec["kind"] in ("cargo", "parcel") else ""
    # Training profile first, then the others; each normal set before its harder one.
    for profile, r in sorted(evaluation.items(), key=lambda kv: (not kv[1]["seenInTraining"], kv[0].split()[0], kv[1].get("hard", False))):
        seen = "training profile" if r["seenInTraining"] else "scanner profile not seen in training"
        if r.get("hard"):
            seen += f"; harder set: {harder}"
        lines += [f"### {profile.split()[0]} ({seen}): {r['scans']} scans, {r['clearScans']} clear, {r['objects']} objects", ""]
        if spec["targets"] == "objects":
            lines += [
                f"- Detection rate at <= 1 % clear scans alarming: **{pct(r['detectionRate'])}** "
                f"(clear scans alarming there: {pct(r['clearScansAlarming'])}).",
                f"- At the installed thresholds: clear scans alarming {pct(r['atInstalledThresholds']['clearScansAlarming'])}, "
                f"scans with objects alarming {pct(r['atInstalledThresholds']['scansWithObjectsAlarming'])}.",
                f"- Mean AP@0.5: {num(r['meanAP50'])}.", "",
                "| class | objects | AP@0.5 | detection rate at 1 % FA | its threshold there |", "|---|---|---|---|---|",
            ]
            for c in spec["classes"]:
                pc = r["perClass"].get(c, {"objects": 0, "ap50": None, "detectionRate": None, "operatingThreshold": None})
                lines.append(f"| {c} | {pc['objects']} | {num(pc['ap50'])} | {pct(pc['detectionRate'])} | {num(pc['operatingThreshold'])} |")
            lines.append("")
        else:
            ev, dm = r["emptyVerification"], r["declarationMismatch"]
            lines += [
                f"- Declared-empty containers verified correctly: **{pct(ev['accuracy'])}** of {int(ev['declaredEmpty'] or 0)} "
                f"(loaded ones caught: {pct(ev['loadedFound'])}).",
                f"- Empty / loaded called correctly over all scans: {pct(ev['emptyOrLoadedAccuracyAllScans'])}.",
                f"- Declaration mismatches found: {pct(dm['found'])} of {int(dm['mismatched'] or 0)}; "
                f"false mismatches on consistent declarations: {pct(dm['falseOnConsistent'])}.", "",
            ]
    limits = Path(__file__).parent / "limits" / f"{name}.md"
    lines += ["## Known limits", "", limits.read_text().strip(), ""]
    (folder / "MODEL_CARD.md").write_text("\n".join(lines))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=sorted(SPECS))
    p.add_argument("--version", default="1.0.0")
    a = p.parse_args()
    card(a.model, a.version)
