"""Headless Chromium over the DevTools protocol, for tests that look at a page.

Debian's `chromium` package (installed by `.ci/run` where missing) is started
on a random loopback port (``--remote-debugging-port=0``; the port is read
from ``DevToolsActivePort`` in its profile directory) with the network
features off, and driven over one websocket (websocket-client) with flat
sessions. ``open_page`` emulates a device (390 px phone with mobile viewport
rules, or a 1200 px desktop), loads a file, evaluates scripts and takes
screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import websocket

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio", "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
TIMEOUT = 30.0


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class DevToolsError(RuntimeError):
    pass


class Browser:
    """One Chromium process and its browser-level DevTools connection."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.profile = profile
        self.log = (profile.parent / "chromium.log").open("wb")
        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise DevToolsError("chromium did not start; see " + str(self.log.name))
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=TIMEOUT,
                                              suppress_origin=True)
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise DevToolsError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for n, event in enumerate(self.events):
                if event["method"] == method and event.get("sessionId") == session:
                    del self.events[: n + 1]
                    return event
            if time.monotonic() > deadline:
                raise DevToolsError(f"no {method} within {TIMEOUT}s")
            self.events.append(json.loads(self.ws.recv()))

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Page:
    """One tab with device emulation."""

    def __init__(self, browser: Browser, width: int, height: int, mobile: bool,
                 scale: float = 1.0, dark: bool = False) -> None:
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable")
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile,
            "screenWidth": width, "screenHeight": height})
        if mobile:
            self.send("Emulation.setTouchEmulationEnabled", {"enabled": True})
        if dark:  # the browser's own forced dark mode, like a mail app's
            self.send("Emulation.setAutoDarkModeOverride", {"enabled": True})
            self.send("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme", "value": "dark"}]})

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def load(self, path: Path) -> None:
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.browser.wait_event("Page.loadEventFired", self.session)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise DevToolsError(json.dumps(result["exceptionDetails"])[:2000])
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", params)["data"]))


@contextmanager
def browser(tmp: Path) -> Iterator[Browser]:
    binary = chromium_binary()
    if binary is None:
        raise DevToolsError("chromium is not installed")
    profile = tmp / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    b = Browser(binary, profile)
    try:
        yield b
    finally:
        b.close()


def in_ci() -> bool:
    return bool(os.environ.get("CI"))
