"""Writes onnx_conformance_skips.txt from the classification of conformance_cases.py (never from run
results), and prints how many ONNX node test cases run and why the others are skipped.

    .venv/bin/python Tests/python/update_conformance_skips.py          # rewrite the file
    .venv/bin/python Tests/python/update_conformance_skips.py --check  # exit 1 if it is stale
"""
from __future__ import annotations

import argparse
import collections
import sys

import conformance_cases as cc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the file differs")
    args = parser.parse_args()
    classification = cc.classification()
    skips = cc.expected_skips()
    categories = collections.Counter(r.split(" ")[0] if r.startswith("dtype") else
                                     " ".join(r.split(" ")[:2]) if r.startswith("unsupported") else r
                                     for r in skips.values())
    print(f"{len(classification)} cases: {len(classification) - len(skips)} supported, {len(skips)} skipped")
    for category, n in categories.most_common():
        print(f"  {n:5d}  {category}")
    text = cc.render_skips(skips)
    current = cc.SKIPS_FILE.read_text() if cc.SKIPS_FILE.exists() else ""
    if args.check:
        if current != text:
            print(f"{cc.SKIPS_FILE} is stale: run {sys.argv[0]}", file=sys.stderr)
            return 1
        return 0
    if current != text:
        cc.SKIPS_FILE.write_text(text)
        print(f"wrote {cc.SKIPS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
