"""Who may do what on the HTTP API: every role against every endpoint (a table), tokens that are
forged, tampered with, expired or signed out, sign-in throttling, the first start's admin, and the
audit trail those leave. A real `vigil serve` on loopback; accounts made with `vigil users add` and
`POST /api/users`, as an operator would.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from test_service import HOST, PROFILE, meta, parcels, password_of, serve  # noqa: F401  (fixtures)
from vigil_cli import REPO, VIGIL, vigil

MODEL = "parcel-threat"
ANON = None
# Every account the table exercises: the admin the harness adds, plus these (name, role, site).
ACCOUNTS = [("analyst-all", "analyst", None), ("analyst-narva", "analyst", "narva"),
            ("siteadmin-narva", "site-admin", "narva")]
ROLES = [ANON, "tester", "analyst-all", "analyst-narva", "siteadmin-narva"]


def expected(anon, admin, analyst_all, analyst_narva, siteadmin_narva) -> dict:
    return dict(zip(ROLES, (anon, admin, analyst_all, analyst_narva, siteadmin_narva)))


EVERYONE = expected(200, 200, 200, 200, 200)
SIGNED_IN = expected(401, 200, 200, 200, 200)
SEES_TALLINN = expected(401, 200, 200, 403, 403)
ADMIN_ONLY = expected(401, 200, 403, 403, 403)


def table(narva: str, tallinn: str) -> list[tuple[str, str, dict | None, dict]]:
    """(method, path, body, expected status per role). `narva` and `tallinn` are scan ids."""
    unchanged = {"reason": "access test", "thresholds": {MODEL: {"pistol": None}}}
    return [
        ("GET", "/healthz", None, EVERYONE),
        ("GET", "/metrics", None, EVERYONE),
        ("GET", "/review", None, EVERYONE),
        ("GET", "/api/me", None, SIGNED_IN),
        ("GET", "/api/scans", None, SIGNED_IN),
        ("GET", "/api/scans?site=tallinn", None, SEES_TALLINN),
        ("GET", f"/api/scans/{narva}", None, SIGNED_IN),
        ("GET", f"/api/scans/{tallinn}", None, SEES_TALLINN),
        ("GET", f"/api/scans/{narva}/image.png", None, SIGNED_IN),
        ("GET", f"/api/scans/{tallinn}/image.png", None, SEES_TALLINN),
        ("GET", f"/api/scans/{tallinn}/planes", None, SEES_TALLINN),
        ("GET", f"/api/scans/{tallinn}/tdr.dcm", None, SEES_TALLINN),
        ("GET", f"/api/scans/{narva}/reviews", None, SIGNED_IN),
        ("GET", f"/api/scans/{tallinn}/reviews", None, SEES_TALLINN),
        ("POST", f"/api/scans/{narva}/reviews", {"decision": "release"}, expected(401, 201, 201, 201, 201)),
        ("POST", f"/api/scans/{tallinn}/reviews", {"decision": "release"}, expected(401, 201, 201, 403, 403)),
        ("GET", "/api/sites/narva/thresholds", None, SIGNED_IN),
        ("GET", "/api/sites/tallinn/thresholds", None, SEES_TALLINN),
        ("GET", "/api/sites/narva/thresholds/history", None, SIGNED_IN),
        ("GET", f"/api/sites/narva/thresholds/what-if?model={MODEL}", None, SIGNED_IN),
        ("GET", f"/api/sites/tallinn/thresholds/what-if?model={MODEL}", None, SEES_TALLINN),
        ("PUT", "/api/sites/narva/thresholds", unchanged, expected(401, 200, 403, 403, 200)),
        ("PUT", "/api/sites/tallinn/thresholds", unchanged, expected(401, 200, 403, 403, 403)),
        ("POST", "/api/sites/narva/thresholds/restore", {"change": 999999, "reason": "r"}, expected(401, 404, 403, 403, 404)),
        ("POST", "/api/sites/tallinn/thresholds/restore", {"change": 999999, "reason": "r"}, expected(401, 404, 403, 403, 403)),
        ("GET", "/api/sites/narva/activity", None, SIGNED_IN),
        ("GET", "/api/sites/tallinn/activity", None, SEES_TALLINN),
        ("GET", f"/api/profiles/{PROFILE}/materials", None, SIGNED_IN),
        ("GET", "/api/users", None, ADMIN_ONLY),
        ("POST", "/api/users", {"name": "new-{role}", "role": "analyst", "password": "a long enough password"},
         expected(401, 201, 403, 403, 403)),
        ("DELETE", "/api/users/nobody", None, expected(401, 404, 403, 403, 403)),
        ("GET", "/api/stations", None, ADMIN_ONLY),
        ("POST", "/api/stations", {"name": "gate-{role}", "site": "narva", "profiles": [PROFILE]}, expected(401, 201, 403, 403, 403)),
        ("DELETE", "/api/stations/nobody", None, expected(401, 404, 403, 403, 403)),
        # The admin, or the account itself, sets the same password again: that signs analyst-all out
        # everywhere, and the table signs it back in.
        ("PUT", "/api/users/analyst-all/password", {"password": password_of("analyst-all")}, expected(401, 200, 200, 403, 403)),
    ]


@pytest.fixture
def two_sites(serve, parcels):
    """A server with one scan at narva and one at tallinn, and the table's accounts."""
    server = serve()
    for name, role, site in ACCOUNTS:
        server.account(name, role, site)
    with server.connect() as c:
        narva = c.wait(c.send_scan(meta(parcels[0], "acc-narva", site="narva"), parcels[0].data)).result["scanId"]
        tallinn = c.wait(c.send_scan(meta(parcels[1], "acc-tallinn", site="tallinn"), parcels[1].data)).result["scanId"]
    return server, narva, tallinn


def test_each_role_against_each_endpoint(two_sites):
    server, narva, tallinn = two_sites
    wrong = []
    for method, path, body, statuses in table(narva, tallinn):
        for role in ROLES:
            sent = json.loads(json.dumps(body).replace("{role}", role or "anon")) if body else None
            status, _, answer = server.http(path, method, sent, as_user=role)
            if path == "/api/users/analyst-all/password" and status == 200:
                server.tokens.pop("analyst-all", None)
            if status != statuses[role]:
                wrong.append(f"{method} {path} as {role or 'anonymous'}: {status}, expected {statuses[role]}: {answer[:200]!r}")
            if status in (401, 403):
                assert json.loads(answer)["error"], (method, path, role)
    assert not wrong, "\n".join(wrong)


def test_a_list_shows_a_site_bound_account_only_its_site(two_sites):
    server, narva, tallinn = two_sites
    for role, ids in [("tester", {narva, tallinn}), ("analyst-all", {narva, tallinn}), ("analyst-narva", {narva})]:
        status, doc = server.get_json("/api/scans", as_user=role)
        assert status == 200 and {s["scanId"] for s in doc["scans"]} == ids, (role, doc)


def test_forged_tampered_signed_out_and_foreign_tokens_are_refused(two_sites, serve):
    server, narva, _ = two_sites
    good = server.token("analyst-all")
    other = serve()  # another store: its tokens mean nothing here
    for token, why in [("vgl_" + secrets.token_urlsafe(32), "not valid"), (good[:-1] + ("A" if good[-1] != "A" else "B"), "not valid"),
                       (other.token(other.ADMIN), "not valid")]:
        status, headers, body = server.http(f"/api/scans/{narva}", token=token)
        assert status == 401 and why in json.loads(body)["error"], (token, body)
        assert headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert server.get_json("/api/me", token=good)[0] == 200
    status, _, _ = server.http("/api/logout", "POST", token=good)
    assert status == 200
    status, doc = server.get_json("/api/me", token=good)
    assert status == 401 and "signed out" in doc["error"]


def test_tokens_expire(serve):
    # 3.6 s tokens: long enough to use once, short enough to wait out.
    server = serve(config={"accounts": {"tokenHours": 0.001}})
    token = server.token(server.ADMIN)
    assert server.get_json("/api/me", token=token)[0] == 200
    time.sleep(4)
    status, doc = server.get_json("/api/me", token=token)
    assert status == 401 and "expired" in doc["error"], doc


def test_a_review_cannot_be_recorded_in_someone_elses_name(two_sites):
    server, narva, _ = two_sites
    status, doc = server.get_json(f"/api/scans/{narva}/reviews", method="POST", body={"user": "boss", "decision": "release"},
                                  as_user="analyst-narva")
    assert status == 403 and "analyst-narva" in doc["error"]
    status, doc = server.get_json(f"/api/scans/{narva}/reviews", method="POST", body={"decision": "inspect"}, as_user="analyst-narva")
    assert status == 201 and doc["reviews"][-1]["user"] == "analyst-narva"


def test_sign_in_is_throttled_and_never_says_which_part_was_wrong(serve):
    server = serve()
    server.account("olga", "analyst", "narva")
    answers = [server.get_json("/api/login", method="POST", body={"username": "olga", "password": f"guess {i}"}, as_user=None)
               for i in range(5)]
    assert all(a == (401, {"error": "wrong username or password"}) for a in answers), answers
    assert server.get_json("/api/login", method="POST", body={"username": "nobody", "password": "x" * 12}, as_user=None) == \
        (401, {"error": "wrong username or password"})
    # The sixth attempt is refused even with the right password, and says when to come back.
    status, headers, body = server.http("/api/login", "POST", {"username": "olga", "password": password_of("olga")}, as_user=None)
    assert status == 429 and 0 < int(headers["Retry-After"]) <= 900, (status, body)
    # Another account is not locked by olga's failures.
    assert server.token(server.ADMIN)


def test_accounts_from_the_command_line(tmp_path):
    data = tmp_path / "data"

    def users(*args, stdin: str | None = None):
        return subprocess.run([str(VIGIL), "users", *args, "--data", str(data)], input=stdin, capture_output=True, text=True, timeout=60)

    run = users("add", "anna", "--role", "site-admin", "--site", "narva", "--password-stdin", stdin="a long enough password\n")
    assert run.returncode == 0 and json.loads(run.stdout)["role"] == "site-admin", run.stderr
    for args, stdin, message in [
        (("add", "anna", "--role", "analyst", "--password-stdin"), "a long enough password\n", "already exists"),
        (("add", "bob", "--role", "site-admin", "--password-stdin"), "a long enough password\n", "needs --site"),
        (("add", "bob", "--role", "emperor", "--password-stdin"), "a long enough password\n", "role must be"),
        (("add", "bob", "--role", "analyst", "--password-stdin"), "short\n", "too short"),
        (("add", "bob", "--role", "analyst"), "a long enough password\n", "--password-stdin"),
    ]:
        run = users(*args, stdin=stdin)
        assert run.returncode != 0 and message in run.stderr and run.stderr.count("\n") == 1, (args, run.stderr)
    listed = json.loads(users("list").stdout)["accounts"]
    assert [(a["name"], a["role"], a["site"]) for a in listed] == [("anna", "site-admin", "narva")]
    # Only an scrypt hash is stored, and the database and its folder are not world-readable.
    db = sqlite3.connect(data / "vigil.sqlite")
    [(stored,)] = db.execute("SELECT passwordHash FROM accounts WHERE name = 'anna'").fetchall()
    assert stored.startswith("scrypt$32768$8$1$") and "long enough" not in stored
    assert b"a long enough password" not in (data / "vigil.sqlite").read_bytes()
    assert os.stat(data / "vigil.sqlite").st_mode & 0o007 == 0


def test_first_start_creates_an_admin_and_prints_its_password_once_and_policy_changes_are_audited(tmp_path):
    data = tmp_path / "data"
    # A copy of the profiles whose policy file the test edits between two starts, as an operator would.
    profiles = tmp_path / "profiles"
    shutil.copytree(REPO / "ScannerProfiles", profiles, ignore=shutil.ignore_patterns("samples"))

    def start() -> tuple[subprocess.Popen, dict, Path]:
        log = tmp_path / f"serve-{time.monotonic_ns()}.log"
        proc = subprocess.Popen([str(VIGIL), "serve", "--data", str(data), "--ingest-port", "0", "--http-port", "0",
                                 "--dicom-port", "0", "--models", str(REPO / "Models"), "--profiles", str(profiles)],
                                stdout=subprocess.PIPE, stderr=log.open("wb"))
        return proc, json.loads(proc.stdout.readline()), log

    def stop(proc: subprocess.Popen) -> None:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(60) == 0

    proc, ready, log = start()
    try:
        text = log.read_text()
        [password] = re.findall(r'created "admin" \(role admin\) with password (\S+)', text)
        import urllib.request
        req = urllib.request.Request(f"http://{HOST}:{ready['httpPort']}/api/login", method="POST",
                                     data=json.dumps({"username": "admin", "password": password}).encode())
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200 and json.loads(r.read())["account"]["role"] == "admin"
    finally:
        stop(proc)
    policy = json.loads((profiles / "policy.json").read_text())
    (profiles / "policy.json").write_text(json.dumps(policy, indent=1))
    proc, _, log = start()
    stop(proc)
    assert "password" not in log.read_text()
    # The audit trail holds the account's creation, the models and policy first seen, the sign-in,
    # then the policy file's change; never the password.
    entries = [json.loads(l) for l in vigil("audit", "export", "--data", data).stdout.splitlines()]
    models = sorted(p.parent.parent.name for p in (REPO / "Models").glob("*/*/manifest.json"))
    assert [(e["action"], e["subject"]) for e in entries] == [("account.add", "admin")] + [("model.add", m) for m in models] + [
        ("policy.add", "policy.json"), ("auth.signin", "admin"), ("policy.change", "policy.json")]
    assert not any(password in json.dumps(e) for e in entries)


def test_sign_ins_views_and_refusals_are_in_the_verified_audit_trail(two_sites):
    server, narva, tallinn = two_sites
    assert server.http(f"/api/scans/{narva}/image.png", as_user="analyst-narva")[0] == 200
    assert server.http(f"/api/scans/{tallinn}/image.png", as_user="analyst-narva")[0] == 403
    server.http("/api/login", "POST", {"username": "analyst-narva", "password": "wrong password"}, as_user=None)
    run = vigil("audit", "verify", "--data", server.data)
    assert run.returncode == 0 and json.loads(run.stdout)["ok"], run.stdout
    entries = [json.loads(l) for l in vigil("audit", "export", "--data", server.data).stdout.splitlines()]
    # The records office checks the export with its own SHA-256, as docs/security.md describes.
    previous = "0" * 64
    for e in entries:
        text = "\n".join([e["previousHash"], str(e["id"]), e["at"], e["actor"], e["action"], e["subject"], e["details"]])
        assert e["previousHash"] == previous and hashlib.sha256(text.encode()).hexdigest() == e["hash"], e
        previous = e["hash"]
    seen = {(e["actor"], e["action"], e["subject"]) for e in entries}
    assert ("analyst-narva", "auth.signin", "analyst-narva") in seen
    assert ("analyst-narva", "scan.view", narva) in seen
    assert ("analyst-narva", "scan.view", tallinn) not in seen  # refused, so not viewed
    assert ("anonymous", "auth.signin-refused", "analyst-narva") in seen
    assert ("tester", "account.add", "siteadmin-narva") in seen


def test_secrets_never_reach_the_log_even_at_trace_level(serve, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "trace")
    server = serve()
    server.account("olga", "analyst", "narva")
    token = server.token("olga")
    assert server.get_json("/api/me", as_user="olga")[0] == 200
    server.http("/api/login", "POST", {"username": "olga", "password": "a wrong guess of hers"}, as_user=None)
    server.stop()
    log = server.stderr(tail=10_000_000)
    assert "trace" in log or "debug" in log, "the log level did not take"
    for secret in (token, password_of("olga"), "a wrong guess of hers", password_of(server.ADMIN)):
        assert secret not in log
