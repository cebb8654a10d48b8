"""The dashboard in a real browser: Debian's Chromium driven by Playwright (headless).

The test starts `scenarios viz` on a free loopback port, drives the page, and stops the
server. It also refreshes docs/dashboard.png, the screenshot the README shows.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import CONFIGS, ROOT

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium not installed (make test installs it with apt-get)",
    ),
]
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scenarios.cli",
            "viz",
            str(CONFIGS / "baseline.yaml"),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, "the dashboard server exited"
            assert time.monotonic() < deadline, "the dashboard did not come up"
            time.sleep(0.5)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


@pytest.fixture
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1600, "height": 1400})
        tab.console_errors = []  # type: ignore[attr-defined]
        tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))  # type: ignore[attr-defined]
        tab.on("pageerror", lambda e: tab.console_errors.append(str(e)))  # type: ignore[attr-defined]
        tab.goto(server, wait_until="networkidle")
        tab.wait_for_selector(".vue-grid-item img", timeout=60_000)
        yield tab
        browser.close()


def time_text(page) -> str:
    return page.get_by_text("Time:").inner_text()


def plot_images(page) -> list[str]:
    return page.eval_on_selector_all(".vue-grid-item img", "els => els.map(e => e.src)")


def press(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def wait_for_text(page, text: str, timeout: float = 30) -> None:
    page.get_by_text(text).first.wait_for(timeout=timeout * 1000)


def wait_for_lever(page, text: str) -> None:
    script = "t => document.querySelector('table.levers').innerText.includes(t)"
    page.wait_for_function(script, arg=text, timeout=30_000)


def test_page_loads_without_console_errors(page) -> None:
    assert time_text(page) == "Time: 0.0"
    assert len(plot_images(page)) >= 6  # map, trust, four time series
    wait_for_text(page, "lever in use")
    assert page.console_errors == []


def test_stepping_changes_the_time_series(page) -> None:
    before = plot_images(page)
    for _ in range(4):
        press(page, "Step")
    page.wait_for_function("() => document.body.innerText.includes('Time: 4.0')")
    page.wait_for_timeout(1500)
    after = plot_images(page)
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    assert changed >= 5, "map, trust and time series redraw as the model steps"
    page.screenshot(path=str(ROOT / "docs" / "dashboard.png"))
    assert page.console_errors == []


def slider(page, label: str):
    return page.locator(".v-input", has_text=label).get_by_role("slider")


def test_moving_a_slider_and_resetting_changes_the_parameter(page) -> None:
    wait_for_text(page, "sharing us->russia")
    assert "sharing us->russia\t0.00" in page.inner_text("table.levers")
    handle = slider(page, "sharing.policy.us.russia")
    handle.focus()
    handle.press("End")  # to the maximum, 1.0
    press(page, "Reset")
    wait_for_lever(page, "sharing us->russia\t1.00")
    assert "sharing.policy.us.russia=1.0" in page.inner_text("body")


def test_switching_scenario_applies_its_values(page) -> None:
    page.locator(".v-select", has_text="Scenario").click()
    page.get_by_role("option", name="trilateral", exact=True).click()
    press(page, "Reset")
    wait_for_text(page, "trilateral")
    wait_for_lever(page, "sharing us->taliban\t0.70")


def test_a_bad_value_is_refused_with_a_visible_message(page) -> None:
    seed = page.locator(".v-input", has_text="Seed").locator("input")
    seed.fill("abc")
    seed.press("Enter")
    override = page.locator(".v-input", has_text="Override").locator("input")
    override.fill("sharing.compartmentalisation=1.5")
    override.press("Enter")
    press(page, "Reset")
    error = page.locator(".input-error")
    error.first.wait_for(timeout=30_000)
    text = " ".join(error.all_inner_texts())
    assert "seed = 'abc'" in text
    assert "sharing.compartmentalisation = 1.5" in text
    assert "less than or equal to 1" in text
    assert error.first.is_visible()
