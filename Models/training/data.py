"""Synthetic training data: `vigil synth`, then `vigil image preprocess` at the model's pitch.

Preprocessing goes through vigil itself, so a model is trained on exactly the tensors the
pipeline will give it. Label boxes (pixels of the scan as received) are moved into the prepared
image with the geometry vigil reports (flips, transpose, scale).
"""
import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from specs import SPECS

ROOT = Path(__file__).resolve().parents[2]
VIGIL = ROOT / ".build" / "release" / "vigil"


def synth(kind, profile, count, seed, out: Path, hard=False):
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "labels.json").exists():
        subprocess.run([str(VIGIL), "synth", "--kind", kind, "--profile", profile, "--count", str(count),
                        "--seed", str(seed), "--out", str(out)] + (["--hard"] if hard else []),
                       check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "labels.json").read_text())


def to_prepared(box, geometry, received_w, received_h):
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    if geometry["flipHorizontal"]:
        x = received_w - x - w
    if geometry["flipVertical"]:
        y = received_h - y - h
    if geometry["transposed"]:
        x, y, w, h = y, x, h, w
    sx, sy = geometry["scaleX"], geometry["scaleY"]
    return [x * sx, y * sy, (x + w) * sx, (y + h) * sy]


def prepare(raw: Path, profile, pitch, out: Path, labels):
    """Preprocesses every scan; returns [(npy path, [[x0,y0,x1,y1,label], ...], load, entry)]."""
    out.mkdir(parents=True, exist_ok=True)

    def one(entry):
        src = raw / entry["file"]
        dst = out / (Path(entry["file"]).stem + ".npy")
        meta = out / (Path(entry["file"]).stem + ".json")
        if not meta.exists():
            info = json.loads(subprocess.run(
                [str(VIGIL), "image", "preprocess", str(src), str(dst), "--profile", profile,
                 "--pitch", str(pitch), "--no-tile"], check=True, capture_output=True, text=True).stdout)
            dims = json.loads(subprocess.run([str(VIGIL), "image", "info", str(src)], check=True,
                                             capture_output=True, text=True).stdout)
            info["received"] = [dims["width"], dims["height"]]
            # Half precision on disk: log attenuations need no more, and it halves the data set.
            np.save(dst, np.load(dst)[0].astype(np.float16))
            meta.write_text(json.dumps(info))
        info = json.loads(meta.read_text())
        rw, rh = info["received"]
        g = info["geometry"]
        objects = [to_prepared(o["box"], g, rw, rh) + [o["label"], o["kind"]] for o in entry["objects"]]
        load = to_prepared(entry["load"]["box"], g, rw, rh) + [entry["load"]["label"], "load"] if entry.get("load") else None
        return dict(file=str(dst), objects=objects, load=load, entry=entry)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, labels["scans"]))


def dataset(name, split_dir: Path):
    """The model's training scans: its normal set, plus its harder set when the spec has one."""
    spec = SPECS[name]
    items = []
    for part, hard in (("train", False), ("train_hard", True)):
        if part not in spec:
            continue
        count, seed, profile = spec[part]["count"], spec[part]["seed"], spec["profile"]
        raw = split_dir / f"{spec['kind']}-{profile}-{seed}-{count}{'-hard' if hard else ''}"
        labels = synth(spec["kind"], profile, count, seed, raw, hard=hard)
        items += prepare(raw, profile, spec["pitch_mm"], raw / f"prepared-{spec['pitch_mm']:g}mm", labels)
    return items


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model", choices=sorted(SPECS))
    p.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    a = p.parse_args()
    items = dataset(a.model, a.data)
    print(f"{len(items)} scans, {sum(len(i['objects']) for i in items)} objects", file=sys.stderr)
