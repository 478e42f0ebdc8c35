"""Debian's headless Chromium driven by selenium, for the browser tests and ``make screenshots``.

The browser records every request it makes (Chrome DevTools performance log) and every
console message, so a caller can check that a page loaded nothing from outside the app and
logged no error. Host resolution is also switched off for every name but the loopback, so an
outside request fails instead of leaving the machine.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension", "devtools"}


class BrowserMissing(RuntimeError):
    """Chromium or chromedriver is not installed; the message says how to get them."""


def chrome(width: int = 1920, height: int = 1080, download_dir: str | Path | None = None):
    """A headless Chromium with its viewport exactly ``width`` x ``height``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).exists() or shutil.which(path)):
            raise BrowserMissing(f"{path} is missing: install Debian's {pkg} (make screenshots / make test do it, "
                                 f"or apt-get install -y chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions", "--no-first-run", "--metrics-recording-only",
                 "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                 "--autoplay-policy=no-user-gesture-required", "--hide-scrollbars=false", "--lang=zh-CN",
                 f"--window-size={width},{height}",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    prefs = {"intl.accept_languages": "zh-CN,zh"}
    if download_dir:
        prefs.update({"download.default_directory": str(download_dir), "download.prompt_for_download": False,
                      "safebrowsing.enabled": False})
    opts.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd("Network.enable", {})
    viewport(driver, width, height)
    if download_dir:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver


def viewport(driver, width: int, height: int) -> None:
    """Make the page's viewport exactly width x height CSS pixels (device scale 1)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


class Recorder:
    """Reads the browser's logs as they come and keeps what matters: every URL requested and
    every console message (the driver hands each log entry out only once)."""

    def __init__(self, driver):
        self.driver = driver
        self.urls: list[str] = []
        self.console: list[dict] = []

    def collect(self) -> "Recorder":
        for entry in self.driver.get_log("performance"):
            try:
                msg = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            if msg.get("method") == "Network.requestWillBeSent":
                self.urls.append(msg["params"]["request"]["url"])
            elif msg.get("method") == "Network.webSocketCreated":
                self.urls.append(msg["params"]["url"])
        self.console.extend(self.driver.get_log("browser"))
        return self

    def external(self) -> list[str]:
        """URLs requested from anywhere but this machine."""
        self.collect()
        out = []
        for u in self.urls:
            parts = urlsplit(u)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if parts.hostname not in LOCAL_HOSTS:
                out.append(u)
        return out

    def errors(self, ignore: tuple[str, ...] = ()) -> list[dict]:
        """SEVERE console entries (errors), except those containing one of ``ignore``."""
        self.collect()
        return [e for e in self.console if e.get("level") == "SEVERE" and not any(s in e.get("message", "") for s in ignore)]


def scrollbars(driver) -> dict:
    """How far the page overflows its viewport (0, 0 means no scrollbars)."""
    return driver.execute_script(
        "var e = document.documentElement, b = document.body;"
        "return {x: Math.max(e.scrollWidth, b.scrollWidth) - e.clientWidth,"
        "        y: Math.max(e.scrollHeight, b.scrollHeight) - e.clientHeight};")
