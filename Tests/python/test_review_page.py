"""The analysts' review page in headless Chromium against a real `vigil serve`: the queue lists the
alarms, the scan is drawn with its findings' boxes, and decisions made with the keyboard reach the
store.
"""
from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from PIL import Image

from browser import Browser
from test_service import cargo_pairs, meta, overlaps, parcels, password_of, serve  # noqa: F401  (fixtures)


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def sign_in(browser: Browser, base: str, name: str) -> None:
    """Signs in through the page's own form, as an analyst would; the session cookie stays."""
    browser.open(f"{base}/review", "!document.querySelector('#signin-view').hidden")
    browser.evaluate(f"(() => {{ const f = document.querySelector('#signin-form'); f.username.value = {name!r};"
                     f" f.password.value = {password_of(name)!r}; f.requestSubmit(); }})()")
    browser.wait(f"document.querySelector('#who').textContent.startsWith({name!r})")


def box_stroke(browser: Browser, shot: np.ndarray, canvas: str, pane: str, box: dict, colour: np.ndarray) -> float:
    """Fraction of the middle third of a box's left edge, as drawn on `canvas` by `pane`'s zoom and
    pan, that is stroked in `colour`."""
    g = browser.evaluate(f"(() => {{ const r = document.querySelector('{canvas}').getBoundingClientRect();"
                         f" const s = screenBox({pane}, {json.dumps(box)}); return {{left: r.left + s.x, top: r.top + s.y, height: s.height}}; }})()")
    left, top, bottom = round(g["left"]), round(g["top"]), round(g["top"] + g["height"])
    column = shot[top + (bottom - top) // 3: top + 2 * (bottom - top) // 3, left - 2: left + 3]
    return float((np.abs(column - colour).sum(axis=2) < 60).any(axis=1).mean())


def hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def test_queue_scan_boxes_and_keyboard_decisions_reach_the_store(serve, parcels, browser, tmp_path):
    server = serve()
    with server.connect() as c:
        results = [c.wait(c.send_scan(meta(p, f"page-{i}", site="narva"), p.data)).result for i, p in enumerate(parcels)]
    alarms = [r for r in results if r["verdict"] == "alarm"]
    assert alarms, "no simulated parcel alarmed"
    base = f"http://127.0.0.1:{server.http_port}"
    # A narva analyst signs in through the page; the decisions below are recorded as hers.
    sign_in(browser, base, server.account("olga", "analyst", "narva"))

    # The queue: every alarm, alarms first.
    browser.open(f"{base}/review?verdict=alarm", "document.querySelectorAll('#queue tbody tr').length > 0")
    rows = browser.evaluate("[...document.querySelectorAll('#queue tbody tr')].map(r => r.children[4].textContent)")
    assert rows == ["alarm"] * len(alarms)
    (tmp_path / "queue.png").write_bytes(browser.screenshot())

    # One scan: drawn, with each finding's box in its class colour where the API puts it.
    scan = alarms[0]
    browser.open(f"{base}/review/{scan['scanId']}", "document.querySelector('#status').textContent.includes('findings')")
    time.sleep(0.5)  # one animation frame for the canvas
    shot = np.array(Image.open(io.BytesIO(browser.screenshot())).convert("RGB")).astype(int)
    (tmp_path / "scan.png").write_bytes(browser.screenshot())
    # The parcel profile's scans arrive mirrored: the page shows them upright, boxes flipped with them.
    assert browser.evaluate("view.flips.join()") == "horizontal"
    for i, f in enumerate(scan["findings"]):
        colour = hex_rgb(browser.evaluate(f"labelColour({f['label']!r})"))
        assert box_stroke(browser, shot, "#canvas", "view", f["box"], colour) > 0.9, f"finding {i} ({f['label']}): no {colour} stroke"

    # Keyboard: confirm the first finding, dismiss the next (or change the first), inspect the scan.

    def stored(n: int) -> dict:
        """Waits until the store holds `n` decisions on the scan (each key saves one)."""
        deadline = time.monotonic() + 30
        while True:
            status, reviews = server.get_json(f"/api/scans/{scan['scanId']}/reviews")
            if status == 200 and len(reviews["reviews"]) >= n:
                return reviews
            assert time.monotonic() < deadline, reviews
            time.sleep(0.1)

    browser.key("c")
    stored(1)
    if len(scan["findings"]) == 1:
        browser.key("k")  # back to the only finding: change it
    browser.key("d")
    stored(2)
    browser.key("i")
    reviews = stored(3)
    assert reviews["current"]["scan"] == "inspect"
    decisions = [(r["finding"], r["decision"], r["user"]) for r in reviews["reviews"]]
    if len(scan["findings"]) == 1:
        assert decisions == [(0, "confirm", "olga"), (0, "dismiss", "olga"), (None, "inspect", "olga")]
        assert reviews["current"]["findings"] == {"0": "dismiss"}
    else:
        assert decisions == [(0, "confirm", "olga"), (1, "dismiss", "olga"), (None, "inspect", "olga")]

    # The material view of a dual-energy scan draws the three colours' legend and renders.
    browser.open(f"{base}/review/{scan['scanId']}?mode=material", "view.mode === 'material' && view.image")
    assert browser.evaluate("view.materials.classes.map(c => c.name).join()") == "organic,inorganic,metal"
    time.sleep(0.5)
    (tmp_path / "material.png").write_bytes(browser.screenshot())

    # The site's dashboard: counts equal what was pushed and decided, and the page shows them.
    status, activity = server.get_json("/api/sites/narva/activity?days=1")
    assert status == 200
    assert sum(d["scans"] for d in activity["stations"]) == len(results)
    assert sum(d["alarms"] for d in activity["stations"]) == len(alarms)
    assert sum(d["decided"] for d in activity["stations"]) == 1
    by_label: dict[str, int] = {}
    for r in results:
        for f in r["findings"]:
            by_label[f["label"]] = by_label.get(f["label"], 0) + 1
    got: dict[str, int] = {}
    for c in activity["classes"]:
        got[c["label"]] = got.get(c["label"], 0) + c["findings"]
    assert got == by_label
    reviewed = [c for c in activity["classes"] if c["confirmed"] + c["dismissed"]]
    assert reviewed and all(c["meanReviewSeconds"] is not None and c["meanReviewSeconds"] >= 0 for c in reviewed)
    browser.open(f"{base}/dashboard?site=narva&days=1", "document.querySelectorAll('#by-day tbody tr').length > 0")
    assert browser.evaluate("document.querySelectorAll('#by-class tbody tr').length") == len({(c["station"], c["label"]) for c in activity["classes"]})


def test_a_paired_scan_is_shown_with_the_earlier_scan_below_and_the_difference_marked_in_both(serve, cargo_pairs, browser, tmp_path):
    out, labels = cargo_pairs
    server = serve()
    a = next(e for name, e in sorted(labels.items()) if name.endswith("-a.tiff")
             and any(o.get("massThickness", 0) >= 8 and o["label"] == "added" for o in e["objects"]))
    b = labels[a["pairOf"]]
    ids = []
    for entry, site in ((a, "riga"), (b, "narva")):
        with server.connect(station=f"{site}-gate") as c:
            o = c.wait(c.send_scan({"scanId": entry["file"], "profile": entry["profile"], "site": site, "pairKey": "TRUCK-PAGE",
                                    "source": entry["file"]}, (out / entry["file"]).read_bytes()))
        ids.append(o.result["scanId"])
        result = o.result
    first, second = ids
    truth = b["objects"][0]
    finding = next(f for f in result["findings"] if f["kind"] == "paired-difference" and overlaps(f["box"], truth["box"]))
    base = f"http://127.0.0.1:{server.http_port}"
    # A narva analyst sees riga's scan of the same vehicle, and no other riga scan.
    sign_in(browser, base, server.account("olga", "analyst", "narva"))
    browser.open(f"{base}/review/{second}", "view.other && view.other.image && document.querySelector('#status').textContent.includes('paired')")
    index = result["findings"].index(finding)
    browser.evaluate(f"select({index})")
    time.sleep(0.5)
    shot = np.array(Image.open(io.BytesIO(browser.screenshot())).convert("RGB")).astype(int)
    (tmp_path / "paired.png").write_bytes(browser.screenshot())
    colour = hex_rgb(browser.evaluate(f"labelColour({finding['label']!r})"))
    assert box_stroke(browser, shot, "#canvas", "view", finding["box"], colour) > 0.9
    assert box_stroke(browser, shot, "#canvas-other", "view.other", finding["otherBox"], colour) > 0.9
    assert browser.evaluate("document.querySelector('#paired-title a').getAttribute('href')") == f"/review/{first}"
    assert server.get_json(f"/api/scans/{first}", as_user="olga")[0] == 200
    with server.connect(station="riga-gate") as c:
        other = c.wait(c.send_scan({"scanId": "unrelated", "profile": a["profile"], "site": "riga", "source": a["file"]},
                                   (out / a["file"]).read_bytes())).result
    assert server.get_json(f"/api/scans/{other['scanId']}", as_user="olga")[0] == 403


def test_a_site_admin_tunes_a_threshold_through_the_page_after_a_what_if(serve, parcels, browser, tmp_path):
    server = serve()
    with server.connect() as c:
        results = [c.wait(c.send_scan(meta(p, f"tune-{i}", site="narva"), p.data)).result for i, p in enumerate(parcels[:12])]
    reviewed = [(r, f) for r in results for f in r["findings"][:1] if f["model"].startswith("parcel-threat")]
    assert reviewed, "no parcel-threat finding in the simulated parcels"
    server.account("olga", "analyst", "narva")
    for r, _ in reviewed:
        assert server.http(f"/api/scans/{r['scanId']}/reviews", "POST", {"findings": [{"index": 0, "decision": "dismiss"}]},
                           as_user="olga")[0] == 201
    label = reviewed[0][1]["label"]
    dismissed = sum(f["label"] == label for _, f in reviewed)
    _, view = server.get_json("/api/sites/narva/thresholds")
    t = view["thresholds"]["parcel-threat"][label]
    candidate = t["max"]
    base = f"http://127.0.0.1:{server.http_port}"
    sign_in(browser, base, server.account("anna", "site-admin", "narva"))
    browser.open(f"{base}/thresholds?site=narva", "document.querySelectorAll('#threshold-table tbody tr').length > 0")
    rowsel = f"[...document.querySelectorAll('#threshold-table tbody tr')].find(r => r.dataset.model === 'parcel-threat' && r.dataset.label === {label!r})"
    browser.evaluate(f"(() => {{ const r = {rowsel}; r.querySelector('input').value = {candidate}; r.querySelector('button').click(); }})()")
    browser.wait("!document.querySelector('#what-if').hidden && document.querySelector('#what-if-curve').complete"
                 " && document.querySelector('#what-if-curve').naturalWidth > 0")
    counts = browser.evaluate("document.querySelector('#what-if-counts').textContent")
    assert f"of {dismissed} dismissed" in counts, counts
    (tmp_path / "thresholds.png").write_bytes(browser.screenshot())
    browser.evaluate("(() => { const f = document.querySelector('#commit-form'); f.reason.value = 'fewer false alarms';"
                     " f.requestSubmit(); })()")
    browser.wait("document.querySelectorAll('#history-table tbody tr').length === 1")
    _, history = server.get_json("/api/sites/narva/thresholds/history")
    assert [(h["label"], h["newValue"], h["user"], h["reason"]) for h in history["changes"]] == [(label, candidate, "anna", "fewer false alarms")]
    # An analyst sees the same page without the means to change anything.
    browser.evaluate("document.querySelector('#signout').click()")
    browser.wait("!document.querySelector('#signin-view').hidden")
    sign_in(browser, base, "olga")
    browser.open(f"{base}/thresholds?site=narva", "document.querySelectorAll('#history-table tbody tr').length === 1")
    assert browser.evaluate("document.querySelector('#commit-form').hidden") is True
    assert browser.evaluate("document.querySelector('#history-table tbody button').disabled") is True
