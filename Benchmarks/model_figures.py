"""Prints the held-out figures of every bundled model (Models/*/*/evaluation.json, written by
Models/training/evaluate.py from `vigil evaluate`) as markdown tables for RESULTS.md.

    python3 Benchmarks/model_figures.py
"""
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def pct(v):
    return "n/a" if v is None else f"{100 * v:.1f} %"


def main():
    print("| model | held-out set | scans (clear) | objects | detected at <= 1 % clear scans alarming | clear scans alarming | "
          "mean AP@0.5 | per class: detection rate (AP@0.5) |")
    print("|---|---|---|---|---|---|---|---|")
    goods = []
    for path in sorted(REPO.glob("Models/*/*/evaluation.json")):
        name, version = path.parent.parent.name, path.parent.name
        for key, r in json.loads(path.read_text()).items():
            setname = key + ("" if r["seenInTraining"] else " (unseen scanner)")
            if r["perClass"] and r["objects"] and name != "cargo-empty":
                classes = ", ".join(f"{c} {pct(v['detectionRate'])} ({v['ap50'] if v['ap50'] is not None else 'n/a'})"
                                    for c, v in sorted(r["perClass"].items()) if v["objects"])
                mean_ap = "n/a" if r["meanAP50"] is None else f"{r['meanAP50']:.3f}"
                print(f"| {name}@{version} | {setname} | {r['scans']} ({r['clearScans']}) | {r['objects']} | "
                      f"**{pct(r['detectionRate'])}** | {pct(r['clearScansAlarming'])} | {mean_ap} | {classes} |")
            if r["emptyVerification"]["accuracy"] is not None:
                goods.append((name, version, setname, r))
    if goods:
        print()
        print("| model | held-out set | declared empty | verified correctly | loaded ones caught | empty/loaded, all scans | "
              "mismatches found | false mismatches |")
        print("|---|---|---|---|---|---|---|---|")
        for name, version, setname, r in goods:
            ev, dm = r["emptyVerification"], r["declarationMismatch"]
            print(f"| {name}@{version} | {setname} | {int(ev['declaredEmpty'])} | **{pct(ev['accuracy'])}** | {pct(ev['loadedFound'])} | "
                  f"{pct(ev['emptyOrLoadedAccuracyAllScans'])} | {pct(dm['found'])} of {int(dm['mismatched'])} | {pct(dm['falseOnConsistent'])} |")


if __name__ == "__main__":
    main()
