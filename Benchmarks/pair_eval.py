#!/usr/bin/env python3
"""Cross-check evaluation on simulated pairs (`vigil synth --kind cargo-pair`).

Runs `vigil pair` on every pair in DIR and reports, against the simulator's ground truth:
changes found by areal density (g/cm²) and by size, false differences per unchanged pair, the
registration error along travel and across it (pixels of scan B, against the true uneven speed and
height), and the comparison time.

    python3 Benchmarks/pair_eval.py DIR [--vigil .build/release/vigil] [--json out.json]
"""
import argparse
import bisect
import json
import statistics
import subprocess
import sys


def invert(samples, step, value):
    """Column (fractional) where a monotone sampled map `samples[k] = f(k * step)` equals `value`."""
    increasing = samples[-1] > samples[0]
    xs = samples if increasing else [-v for v in samples]
    v = value if increasing else -value
    i = bisect.bisect_left(xs, v)
    if i <= 0 or i >= len(xs):
        return None
    t = (v - xs[i - 1]) / (xs[i] - xs[i - 1])
    return (i - 1 + t) * step


def along(samples, step, column):
    k = column / step
    i = min(len(samples) - 2, max(0, int(k)))
    return samples[i] + (samples[i + 1] - samples[i]) * (k - i)


def intersects(f, g):
    return (f["x"] < g["x"] + g["width"] and g["x"] < f["x"] + f["width"]
            and f["y"] < g["y"] + g["height"] and g["y"] < f["y"] + f["height"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--vigil", default=".build/release/vigil")
    parser.add_argument("--json")
    parser.add_argument("--limit", type=int, help="only the first N pairs")
    args = parser.parse_args()
    labels = json.load(open(f"{args.dir}/labels.json"))["scans"]
    by_file = {s["file"]: s for s in labels}
    changes, false_unchanged, false_changed, errors = [], [], [], []
    along_errors, across_errors, times = [], [], []
    pairs = [s for s in labels if s["file"].endswith(("-a.tiff", "-a.npy", "-a.png", "-a.dcm"))][:args.limit]
    for s in pairs:
        other = by_file[s["pairOf"]]
        run = subprocess.run([args.vigil, "pair", f"{args.dir}/{s['file']}", f"{args.dir}/{other['file']}",
                              "--profile-a", s["profile"], "--profile-b", other["profile"]], capture_output=True, text=True)
        if run.returncode != 0:
            errors.append((s["file"], run.stderr.strip()))
            continue
        r = json.loads(run.stdout)
        times.append(r["timingsMs"]["compare"])
        # Registration against the true geometry, where the vehicle is (its front is at 30 cm).
        ta, tb = s["truth"], other["truth"]
        for xa, xb in r["registration"]["columns"]:
            cm = along(ta["alongCM"], ta["step"], xa)
            if 40 <= cm <= 1600:
                true = invert(tb["alongCM"], tb["step"], cm)
                if true is not None:
                    along_errors.append(abs(xb - true))
        for ya, yb in r["registration"]["rows"]:
            height = ta["heightAtRow0CM"] + ta["heightPerRowCM"] * ya
            if 20 <= height <= 380:
                true = (height - tb["heightAtRow0CM"]) / tb["heightPerRowCM"]
                across_errors.append(abs(yb - true))
        truths = [o for o in s["objects"] if o["kind"] == "paired-difference"]
        used = set()
        for g in truths:
            # A moved block is two changes: gone from where it was, there where it arrived.
            direction = "removed" if g["label"] in ("removed", "moved-from") else "added"
            hits = [i for i, f in enumerate(r["findings"])
                    if f["label"] == direction and intersects(f["box"], g["box"]) and intersects(f["otherBox"], g["otherBox"])]
            used.update(hits)
            changes.append({"file": s["file"], "label": g["label"], "material": g["material"], "massThickness": g["massThickness"],
                            "sizeCM": g["sizeCM"], "pixels": g["box"]["width"] * g["box"]["height"], "found": bool(hits)})
        extra = [f for i, f in enumerate(r["findings"]) if i not in used]
        (false_changed if truths else false_unchanged).append(len(extra))
        print(f"{s['file']}: {len(truths)} change(s) {'found' if truths and used else ''} false {len(extra)}"
              f" {[round(f['confidence'], 2) for f in extra]}", file=sys.stderr)

    def rate(rows):
        return (sum(c["found"] for c in rows), len(rows))

    bins = [0.5, 1, 2, 4, 8, 16, 32, 64]
    lines = ["| areal density, g/cm² | changes | found | rate |", "|---|---|---|---|"]
    for lo, hi in zip(bins, bins[1:]):
        found, n = rate([c for c in changes if lo <= c["massThickness"] < hi])
        lines.append(f"| {lo}–{hi} | {n} | {found} | {found / n:.0%} |" if n else f"| {lo}–{hi} | 0 | – | – |")
    # The smallest areal density above which at least 95 % of changes are found.
    smallest = None
    for t in sorted({c["massThickness"] for c in changes}, reverse=True):
        found, n = rate([c for c in changes if c["massThickness"] >= t])
        if found >= 0.95 * n:
            smallest = (t, found, n)
    size_lines = ["| size in scan A, pixels | changes | found | rate |", "|---|---|---|---|"]
    for lo, hi in [(0, 100), (100, 300), (300, 1000), (1000, 3000), (3000, 10 ** 9)]:
        found, n = rate([c for c in changes if lo <= c["pixels"] < hi and c["massThickness"] >= 8])
        size_lines.append(f"| {lo}–{hi if hi < 10 ** 9 else '∞'} (≥ 8 g/cm²) | {n} | {found} | {found / n:.0%} |" if n else
                          f"| {lo}–{hi} | 0 | – | – |")
    found, n = rate(changes)
    summary = {
        "pairs": len(pairs), "errors": errors,
        "changes": n, "found": found,
        "smallestAt95": {"massThickness": smallest[0], "found": smallest[1], "of": smallest[2]} if smallest else None,
        "unchangedPairs": len(false_unchanged), "falseInUnchanged": sum(false_unchanged),
        "changedPairs": len(false_changed), "falseInChanged": sum(false_changed),
        "alongTravelError": {"mean": statistics.mean(along_errors), "p95": sorted(along_errors)[int(0.95 * len(along_errors))],
                             "max": max(along_errors)} if along_errors else None,
        "acrossTravelError": {"mean": statistics.mean(across_errors), "max": max(across_errors)} if across_errors else None,
        "compareMs": {"median": statistics.median(times), "max": max(times)} if times else None,
    }
    print("\n".join(lines))
    print()
    print("\n".join(size_lines))
    print()
    print(json.dumps(summary, indent=1))
    if args.json:
        json.dump({"summary": summary, "changes": changes}, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
