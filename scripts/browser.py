"""Headless Chromium from the operating system's packages, driven by selenium, for the
wallboard's browser test and its screenshot (`scripts/wallboard_screenshot.py`).

    from browser import missing, open_chromium
    with open_chromium(Path(tmp) / "profile", width=1600, height=900) as driver:
        driver.get(url)

Debian's `chromium` and `chromium-driver` packages (`scripts/test` installs them when missing),
at /usr/bin unless `HOTLINE_CHROMIUM` / `HOTLINE_CHROMEDRIVER` say otherwise. Both paths are
given to selenium, so it never looks for (or downloads) a browser or a driver of its own. Each run
gets a fresh profile folder; the browser makes no request of its own (no sync, no component
updates, no background networking), so every request it logs is one the page made.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # selenium is a dev extra: imported when a browser opens, so `missing()` can say
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = Path(os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("HOTLINE_CHROMEDRIVER", "/usr/bin/chromedriver"))
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # a container's /dev/shm is small
)


def missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if absent:
        return (
            f"{' and '.join(absent)} not found: install the Debian packages chromium and "
            "chromium-driver (scripts/test does, as root or with password-less sudo)"
        )
    return None


@contextmanager
def open_chromium(profile: Path, *, width: int, height: int) -> Iterator[WebDriver]:
    """A headless Chromium with a `width` x `height` viewport, its network requests logged
    (`requested_urls`), quit at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        # The viewport itself, whatever the window's frame takes.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: WebDriver) -> list[str]:
    """Every URL the page requested since the last call (the performance log drains)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
