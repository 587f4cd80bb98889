"""Site thresholds within the central bounds (ScannerProfiles/policy.json): `vigil thresholds`, the
HTTP API, the audit history and restore, and the running service judging the next scan by a change.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_service import PROFILE, REPO, meta, parcels, serve  # noqa: F401  (fixtures)
from vigil_cli import vigil

POLICY = json.loads((REPO / "ScannerProfiles/policy.json").read_text())
MODEL = "parcel-threat"


def cli(data: Path, *args) -> tuple[int, list[dict], str]:
    run = vigil("thresholds", *args, "--data", data)
    lines = [json.loads(l) for l in run.stdout.splitlines() if l.strip()]
    return run.returncode, lines, run.stderr


def request(server, method: str, path: str, body: dict | None = None, as_user: str | None = None) -> tuple[int, dict]:
    """A JSON request signed in as `as_user`; by default the account named in the body's `user`
    (a narva analyst, or a narva site-admin for threshold changes), else the admin."""
    if as_user is None and body and "user" in body:
        site_admin = "thresholds" in path
        as_user = server.account(body["user"], "site-admin" if site_admin else "analyst", "narva")
    status, _, raw = server.http(path, method, body, as_user=as_user or server.ADMIN)
    return status, json.loads(raw)


def test_cli_enforces_the_bounds_and_keeps_a_complete_history_that_restores(tmp_path):
    data = tmp_path / "data"
    bounds = POLICY["models"][MODEL]["pistol"]
    code, _, err = cli(data, "set", "--site", "narva", "--model", MODEL, "--class", "pistol",
                       "--value", str(bounds["max"] + 0.01), "--reason", "fewer alarms", "--user", "anna")
    assert code == 1 and f"[{bounds['min']}, {bounds['max']}]" in err and err.count("\n") == 1, err
    code, _, err = cli(data, "set", "--site", "narva", "--model", MODEL, "--class", "gun", "--value", "0.3", "--reason", "r")
    assert code == 1 and "no class gun" in err
    steps = [("pistol", bounds["max"], "anna"), ("blade", 0.8, "bob"), ("pistol", None, "bob")]
    for label, value, user in steps:
        args = ["--value", str(value)] if value is not None else ["--default"]
        code, _, err = cli(data, "set", "--site", "narva", "--model", MODEL, "--class", label, *args,
                           "--reason", f"step {label}", "--user", user)
        assert code == 0, err
    _, history, _ = cli(data, "history", "--site", "narva")
    assert [(h["label"], h["oldValue"], h["newValue"], h["user"]) for h in history] == [
        ("pistol", None, bounds["max"], "anna"), ("blade", None, 0.8, "bob"), ("pistol", bounds["max"], None, "bob")]
    assert all(h["reason"] and h["at"] for h in history)
    _, [view], _ = cli(data, "show", "--site", "narva")
    calibrated = view["thresholds"][MODEL]["pistol"]["calibrated"]
    assert view["thresholds"][MODEL]["pistol"] == {"value": calibrated, "calibrated": calibrated, "min": bounds["min"],
                                                   "max": bounds["max"], "source": "calibrated"}
    # Back to the state right after the first change: pistol at the max again, blade at its default.
    code, restored, _ = cli(data, "restore", "--site", "narva", "--change", str(history[0]["id"]), "--reason", "undo", "--user", "anna")
    assert code == 0 and {(r["label"], r["newValue"]) for r in restored} == {("pistol", bounds["max"]), ("blade", None)}
    _, [view], _ = cli(data, "show", "--site", "narva")
    assert view["thresholds"][MODEL]["pistol"]["value"] == bounds["max"]
    assert view["thresholds"][MODEL]["blade"]["source"] == "calibrated"
    # Other sites are untouched.
    _, [other], _ = cli(data, "show", "--site", "tallinn")
    assert all(e["source"] == "calibrated" for m in other["thresholds"].values() for e in m.values())


def push(c, p, scan_id: str, site: str) -> dict:
    outcome = c.wait(c.send_scan(meta(p, scan_id, site=site), p.data))
    assert outcome.types == ["ACK", "RESULT"], outcome.frames
    return outcome.result


def test_the_service_judges_the_next_scan_by_a_new_threshold(serve, parcels):
    server = serve()
    # A parcel the model alarms on, with a confidence a site may move the threshold above.
    with server.connect() as c:
        found = None
        for i, p in enumerate(parcels):
            result = push(c, p, f"before-{i}", "narva")
            hits = [f for f in result["findings"] if f["model"].startswith(MODEL)]
            bounds = POLICY["models"][MODEL]
            hit = next((f for f in hits if f["confidence"] < bounds[f["label"]]["max"]), None)
            if hit:
                found = (p, hit)
                break
    if found is None:
        pytest.fail("no simulated parcel gave a finding below its class's upper bound")
    p, hit = found
    label, bound = hit["label"], POLICY["models"][MODEL][hit["label"]]
    above = round(min(bound["max"], hit["confidence"] + 0.001), 3)
    # Outside the bounds: refused with them, nothing changes.
    status, body = request(server, "PUT", "/api/sites/narva/thresholds",
                           {"user": "anna", "reason": "r", "thresholds": {MODEL: {label: bound["max"] + 0.05}}})
    assert status == 422 and f"[{bound['min']}, {bound['max']}]" in body["error"]
    status, body = request(server, "PUT", "/api/sites/narva/thresholds",
                           {"user": "anna", "reason": "fewer alarms", "thresholds": {MODEL: {label: above}}})
    assert status == 200, body
    entry = body["thresholds"]["thresholds"][MODEL][label]
    assert (entry["value"], entry["source"]) == (above, "set")
    with server.connect() as c:
        after = push(c, p, "after", "narva")
        other_site = push(c, p, "other-site", "tallinn")
    assert not [f for f in after["findings"] if f["label"] == label and f["box"] == hit["box"]], after["findings"]
    assert [f for f in other_site["findings"] if f["label"] == label and f["box"] == hit["box"]], "another site keeps the default"
    # History and restore through the API; the restored default alarms again.
    status, history = request(server, "GET", "/api/sites/narva/thresholds/history")
    assert status == 200 and [h["newValue"] for h in history["changes"]] == [above]
    status, body = request(server, "POST", "/api/sites/narva/thresholds/restore", {"change": 0, "user": "anna", "reason": "r"})
    assert status == 404
    status, body = request(server, "PUT", "/api/sites/narva/thresholds",
                           {"user": "anna", "reason": "back to calibrated", "thresholds": {MODEL: {label: None}}})
    assert status == 200 and body["thresholds"]["thresholds"][MODEL][label]["source"] == "calibrated"
    with server.connect() as c:
        again = push(c, p, "again", "narva")
    match = [f for f in again["findings"] if f["label"] == label and f["box"] == hit["box"]]
    assert match and match[0]["threshold"] == hit["threshold"]


def test_reviews_are_recorded_and_what_if_equals_a_hand_count(serve, parcels):
    import xml.etree.ElementTree as ET

    server = serve()
    reviewed = []  # (label, confidence, decision)
    with server.connect() as c:
        results = [push(c, p, f"rev-{i}", "narva") for i, p in enumerate(parcels)]
    decision = "confirm"
    for r in results:
        if not r["findings"]:
            continue
        picks = [{"index": i, "decision": decision if i % 2 == 0 else "dismiss", "note": "checked"} for i in range(len(r["findings"]))]
        # A first decision later changed: only the latest counts.
        status, _ = request(server, "POST", f"/api/scans/{r['scanId']}/reviews",
                            {"user": "olga", "findings": [{"index": 0, "decision": "dismiss"}]})
        assert status == 201
        status, body = request(server, "POST", f"/api/scans/{r['scanId']}/reviews",
                               {"user": "olga", "findings": picks, "decision": "inspect", "note": "open it"})
        assert status == 201, body
        assert body["current"]["scan"] == "inspect"
        assert body["current"]["findings"] == {str(p["index"]): p["decision"] for p in picks}
        assert len(body["reviews"]) == 1 + len(picks) + 1 and all(v["user"] == "olga" and v["at"] for v in body["reviews"])
        for p in picks:
            f = r["findings"][p["index"]]
            if f["model"].startswith(MODEL):
                reviewed.append((f["label"], f["confidence"], p["decision"]))
        decision = "dismiss" if decision == "confirm" else "confirm"
    assert reviewed, "no finding to review in the simulated parcels"
    # Wrong input is refused with the reason.
    scan_id = next(r["scanId"] for r in results if r["findings"])
    assert request(server, "POST", f"/api/scans/{scan_id}/reviews", {"user": "olga", "findings": [{"index": 99, "decision": "confirm"}]})[0] == 422
    assert request(server, "POST", f"/api/scans/{scan_id}/reviews", {"user": "olga", "decision": "maybe"})[0] == 422
    assert request(server, "POST", "/api/scans/nope/reviews", {"user": "olga", "decision": "release"})[0] == 404
    # What-if at a candidate inside the bounds, class by class, against a count by hand.
    for label in sorted({l for l, _, _ in reviewed}):
        bound = POLICY["models"][MODEL][label]
        candidate = round((bound["min"] + bound["max"]) / 2, 3)
        status, body = request(server, "GET", f"/api/sites/narva/thresholds/what-if?model={MODEL}&class={label}&value={candidate}")
        assert status == 200, body
        [w] = body["classes"]
        mine = [(conf, d) for l, conf, d in reviewed if l == label]
        assert (w["confirmed"], w["dismissed"]) == (sum(d == "confirm" for _, d in mine), sum(d == "dismiss" for _, d in mine))
        assert w["candidate"] == {"threshold": candidate,
                                  "confirmedFound": sum(d == "confirm" and conf >= candidate for conf, d in mine),
                                  "dismissedAlarming": sum(d == "dismiss" and conf >= candidate for conf, d in mine)}
        assert w["curve"][0]["threshold"] == bound["min"] and w["curve"][-1]["threshold"] == bound["max"]
        status, _, svg = server.http(f"/api/sites/narva/thresholds/what-if?model={MODEL}&class={label}&value={candidate}&format=svg")
        assert status == 200 and ET.fromstring(svg).tag.endswith("svg")
    # Outside the bounds: refused.
    assert request(server, "GET", f"/api/sites/narva/thresholds/what-if?model={MODEL}&class=pistol&value=0.99")[0] == 422
    # Every decision is in the audit chain, which verifies while the service runs.
    run = vigil("audit", "verify", "--data", server.data)
    decisions = sum(len(request(server, "GET", f"/api/scans/{r['scanId']}/reviews")[1]["reviews"]) for r in results)
    assert run.returncode == 0 and json.loads(run.stdout)["ok"] is True
    entries = [json.loads(l) for l in vigil("audit", "export", "--data", server.data).stdout.splitlines()]
    assert len(entries) == json.loads(run.stdout)["entries"]
    reviews = [e for e in entries if e["action"] == "review"]
    assert len(reviews) == decisions and {e["actor"] for e in reviews} == {"olga"}
    # Besides the reviews: the accounts added, their sign-ins, and the models and policy first seen.
    assert {e["action"] for e in entries} == {"review", "account.add", "auth.signin", "model.add", "policy.add"}


def test_the_audit_chain_verifies_and_names_the_first_tampered_entry(tmp_path):
    import sqlite3

    data = tmp_path / "data"
    for i, (label, value) in enumerate([("pistol", 0.3), ("blade", 0.8), ("pistol", 0.25)]):
        code, _, err = cli(data, "set", "--site", "narva", "--model", MODEL, "--class", label, "--value", str(value),
                           "--reason", f"change {i}", "--user", "anna")
        assert code == 0, err
    run = vigil("audit", "verify", "--data", data)
    assert run.returncode == 0 and json.loads(run.stdout) == {"entries": 3, "ok": True}
    entries = [json.loads(l) for l in vigil("audit", "export", "--data", data).stdout.splitlines()]
    assert [(e["actor"], e["action"], e["subject"]) for e in entries] == [("anna", "threshold.set", "narva")] * 3
    assert [e["previousHash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]
    db = sqlite3.connect(data / "vigil.sqlite")
    # Ordinary writes cannot change history.
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET actor = 'mallory' WHERE id = 2")
    # Someone who bypasses that is caught, at the entry they touched.
    db.executescript("DROP TRIGGER auditNoUpdate; UPDATE audit SET details = replace(details, '0.8', '0.9') WHERE id = 2;")
    db.commit()
    run = vigil("audit", "verify", "--data", data)
    assert run.returncode == 1 and json.loads(run.stdout)["firstBroken"] == 2
    assert run.stderr.strip() == "vigil: audit log: entry 2 was changed after it was written"
    # Removing the newest entry is caught too.
    db.executescript("UPDATE audit SET details = replace(details, '0.9', '0.8') WHERE id = 2; DROP TRIGGER auditNoDelete;"
                     " DELETE FROM audit WHERE id = 3;")
    db.commit()
    run = vigil("audit", "verify", "--data", data)
    assert run.returncode == 1 and "entries 3 to 3 were removed" in run.stderr
