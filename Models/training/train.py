"""Trains one default model on simulator data and exports it to Models/<name>/<version>/.

    .venv/bin/python train.py cargo-threat --version 1.0.0

Writes model.onnx and manifest.json; evaluate.py then measures it with `vigil evaluate` and
writes the figures into the model card.
"""
import argparse
import os
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from losses import generalized_box_iou_loss, sigmoid_focal_loss

from data import ROOT, dataset
from model import STRIDES, Detector, distances, grid
from specs import SPECS

LEVEL_LIMITS = (64, 160)  # largest box side (input pixels) that each finer level takes


def targets_of(item, spec):
    if spec["targets"] == "load":
        return [item["load"]] if item["load"] else []
    return [o for o in item["objects"] if o[5] in ("threat", "concealment")]


class Sampler:
    """Crops (or whole padded images) with their boxes, biased towards crops that hold an object."""

    def __init__(self, items, spec, rng):
        self.spec, self.rng = spec, rng
        self.classes = {c: i for i, c in enumerate(spec["classes"])}
        self.images = [np.load(i["file"], mmap_mode="r") for i in items]
        self.boxes = [[t[:4] + [self.classes[t[4]]] for t in targets_of(i, spec)] for i in items]
        self.with_objects = [k for k, b in enumerate(self.boxes) if b]
        self.size = spec["crop"] or spec["tile"]

    def sample(self):
        rng = self.rng
        k = rng.choice(self.with_objects) if rng.random() < 0.6 and self.with_objects else rng.randrange(len(self.images))
        img, boxes = self.images[k], self.boxes[k]
        c, h, w = img.shape
        cw, ch = self.size
        if self.spec["crop"] and boxes and rng.random() < 0.8:
            x0, y0, x1, y1, _ = rng.choice(boxes)
            ox = rng.randint(int(min(x0, max(0, x1 - cw))), int(max(0, min(w - cw, x0))) ) if w > cw else 0
            oy = rng.randint(int(min(y0, max(0, y1 - ch))), int(max(0, min(h - ch, y0))) ) if h > ch else 0
        else:
            ox = rng.randint(0, max(0, w - cw)) if self.spec["crop"] else 0
            oy = rng.randint(0, max(0, h - ch)) if self.spec["crop"] else 0
        out = np.zeros((c, ch, cw), np.float32)  # zero = air, as the pipeline pads tiles
        part = np.asarray(img[:, oy:oy + ch, ox:ox + cw], np.float32)
        out[:, :part.shape[1], :part.shape[2]] = part
        kept = []
        for x0, y0, x1, y1, cls in boxes:
            a = (x1 - x0) * (y1 - y0)
            cx0, cy0 = max(x0 - ox, 0), max(y0 - oy, 0)
            cx1, cy1 = min(x1 - ox, part.shape[2]), min(y1 - oy, part.shape[1])
            if cx1 - cx0 < 2 or cy1 - cy0 < 2 or (cx1 - cx0) * (cy1 - cy0) < 0.6 * a:
                continue
            kept.append([cx0, cy0, cx1, cy1, cls])
        # Travel direction and small gain changes are physically plausible; noise likewise.
        if rng.random() < 0.5:
            out = out[:, :, ::-1].copy()
            kept = [[cw - x1, y0, cw - x0, y1, cls] for x0, y0, x1, y1, cls in kept]
        lo, hi = self.spec.get("gain", (0.9, 1.1))
        out *= np.array([rng.uniform(lo, hi) for _ in range(c)], np.float32)[:, None, None]
        if self.spec.get("single_energy") and rng.random() < self.spec["single_energy"]:
            # One energy in every channel: how a CT projection reaches a dual-energy model.
            out[:] = out.mean(0, keepdims=True)
        out += np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0, 0.03), out.shape).astype(np.float32)
        return out, kept

    def batch(self, n):
        xs, ys = zip(*(self.sample() for _ in range(n)))
        return torch.from_numpy(np.stack(xs)), list(ys)


def assign(boxes, shapes, classes):
    """Per level: class index per cell (-1 background) and the target box of each positive cell."""
    out = []
    for level, ((h, w), s) in enumerate(zip(shapes, STRIDES)):
        cx, cy = grid(h, w, s)
        cls = torch.full((h * w,), -1, dtype=torch.long)
        tbox = torch.zeros((h * w, 4))
        area = torch.full((h * w,), float("inf"))
        for x0, y0, x1, y1, c in boxes:
            side = max(x1 - x0, y1 - y0)
            lv = 0 if side < LEVEL_LIMITS[0] else 1 if side < LEVEL_LIMITS[1] else 2
            if lv != level:
                continue
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            r = 2.5 * s
            inside = (cx > x0) & (cx < x1) & (cy > y0) & (cy < y1) & ((cx - mx).abs() < r) & ((cy - my).abs() < r)
            centre = int(min(h - 1, my // s)) * w + int(min(w - 1, mx // s))
            inside[centre] = True
            a = (x1 - x0) * (y1 - y0)
            take = inside & (a < area)
            cls[take], area[take] = c, a
            tbox[take] = torch.tensor([x0, y0, x1, y1], dtype=torch.float32)
        out.append((cls, tbox))
    return out


def loss_of(outs, targets, nc):
    cls_loss, box_loss, npos = 0.0, 0.0, 0
    for level, ((box, logits), s) in enumerate(zip(outs, STRIDES)):
        n, _, h, w = box.shape
        cx, cy = grid(h, w, s)
        cls_t = torch.stack([t[level][0] for t in targets])            # n, hw
        box_t = torch.stack([t[level][1] for t in targets])            # n, hw, 4
        onehot = torch.zeros(n, h * w, nc)
        pos = cls_t >= 0
        onehot[pos, cls_t[pos]] = 1
        lg = logits.reshape(n, nc, h * w).transpose(1, 2)
        cls_loss = cls_loss + sigmoid_focal_loss(lg, onehot, alpha=0.25, gamma=2.0, reduction="sum")
        if pos.any():
            d = distances(box.reshape(n, 4, h * w).transpose(1, 2), s)[pos]
            gx, gy = cx.expand(n, -1)[pos].float(), cy.expand(n, -1)[pos].float()
            pred = torch.stack([gx - d[:, 0], gy - d[:, 1], gx + d[:, 2], gy + d[:, 3]], 1)
            box_loss = box_loss + generalized_box_iou_loss(pred, box_t[pos], reduction="sum")
            npos += int(pos.sum())
    npos = max(npos, 1)
    return cls_loss / npos, box_loss / npos


def export(model, spec, name, version, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    tw, th = spec["tile"]
    model.eval()

    class Exported(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, images):
            return self.m(images, export=True)

    dummy = torch.zeros(1, len(spec["channels"]), th, tw)
    torch.onnx.export(Exported(model), (dummy,), str(out / "model.onnx"), input_names=["images"],
                      output_names=["detections"], opset_version=17, dynamo=False)
    manifest = {
        "name": name, "version": version,
        "input": {"name": "images", "width": tw, "height": th, "channels": spec["channels"],
                  "pitchMM": spec["pitch_mm"], "overlap": spec["overlap"]},
        "output": {"name": "detections", "format": "yolov8", "classes": spec["classes"],
                   "findings": "goods" if spec["targets"] == "load" else "threats", **({"kinds": spec["kinds"]} if spec.get("kinds") else {})},
        "thresholds": {c: spec["thresholds"] for c in spec["classes"]},
        "nmsIoU": 0.5,
        "profiles": spec["profiles"],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=sorted(SPECS))
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    p.add_argument("--steps", type=int)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    spec = SPECS[a.model]
    torch.manual_seed(a.seed)
    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))
    rng = random.Random(a.seed)
    items = dataset(a.model, a.data)
    sampler = Sampler(items, spec, rng)
    nc = len(spec["classes"])
    model = Detector(len(spec["channels"]), nc)
    steps = a.steps or spec["steps"]
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    start = time.time()
    model.train()
    for step in range(steps):
        x, boxes = sampler.batch(spec["batch"])
        outs = model(x)
        shapes = [o[0].shape[-2:] for o in outs]
        targets = [assign(b, shapes, nc) for b in boxes]
        lc, lb = loss_of(outs, targets, nc)
        loss = lc + 2.0 * lb
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"{a.model} step {step}/{steps} cls {lc.item():.4f} box {float(lb):.4f} "
                  f"{time.time() - start:.0f}s", file=sys.stderr, flush=True)
    out = ROOT / "Models" / a.model / a.version
    export(model, spec, a.model, a.version, out)
    torch.save(model.state_dict(), Path(__file__).parent / "data" / f"{a.model}-{a.version}.pt")
    summary = {"model": a.model, "version": a.version, "steps": steps, "seconds": round(time.time() - start),
               "parameters": sum(p.numel() for p in model.parameters()), "onnxBytes": (out / "model.onnx").stat().st_size,
               "trainingScans": len(items), "seed": a.seed, "torch": torch.__version__}
    (out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
