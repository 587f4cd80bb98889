"""Headless Chromium (Debian's package) driven over the DevTools protocol: enough to load a page,
wait for it, press keys, read values and take screenshots. Started on a free port, stopped by pid.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import websocket  # websocket-client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, width: int = 1400, height: int = 800):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        assert exe, "chromium not found: apt-get install chromium"
        self.profile = tempfile.mkdtemp(prefix="vigil-chromium-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             f"--window-size={width},{height}", f"--remote-debugging-port={self.port}", f"--user-data-dir={self.profile}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json", timeout=2).read())
                page = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                assert self.proc.poll() is None, "chromium exited"
                assert time.monotonic() < deadline, "chromium did not open its DevTools port"
                time.sleep(0.2)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg["error"]
                return msg.get("result", {})

    def evaluate(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in r, r["exceptionDetails"]
        return r["result"].get("value")

    def open(self, url: str, ready: str, timeout: float = 120) -> None:
        """Navigates and waits until the JavaScript expression `ready` is true."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        # Until the new document's script has run, its names do not exist yet.
        while not self.evaluate(f"(() => {{ try {{ return Boolean({ready}); }} catch (e) {{ return false; }} }})()"):
            assert time.monotonic() < deadline, f"page not ready ({ready}); status: {self.evaluate('document.body.innerText')[:300]}"
            time.sleep(0.2)

    def wait(self, ready: str, timeout: float = 60) -> None:
        """Waits until the JavaScript expression `ready` is true on the current page."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"(() => {{ try {{ return Boolean({ready}); }} catch (e) {{ return false; }} }})()"):
            assert time.monotonic() < deadline, f"page not ready: {ready}"
            time.sleep(0.1)

    def key(self, key: str) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, text=key if kind == "keyDown" else "")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)
