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
            "scenarios",
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


def open_tab(context, url: str):
    """A new tab on the dashboard, with its console errors collected, once it has drawn."""
    tab = context.new_page()
    tab.console_errors = []  # type: ignore[attr-defined]
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))  # type: ignore[attr-defined]
    tab.on("pageerror", lambda e: tab.console_errors.append(str(e)))  # type: ignore[attr-defined]
    tab.goto(url, wait_until="networkidle")
    tab.wait_for_selector(".region-map svg", timeout=60_000)
    tab.wait_for_selector(".week-label", timeout=60_000)
    return tab


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield browser
        browser.close()


def new_context(browser):
    return browser.new_context(viewport={"width": 1600, "height": 1400})


@pytest.fixture
def page(browser, server: str) -> object:
    return open_tab(new_context(browser), server)  # closed with its browser


def week_text(page) -> str:
    return page.inner_text(".week-label")


def figures(page) -> list[str]:
    """The figures on the page (inline SVG), as markup."""
    return page.eval_on_selector_all(".figure", "els => els.map(e => e.innerHTML)")


def svg_texts(page, selector: str) -> list[str]:
    """Every text shown inside the elements matching ``selector`` (SVG <text>)."""
    script = "els => els.flatMap(e => [...e.querySelectorAll('text')].map(t => t.textContent))"
    return [t.strip() for t in page.eval_on_selector_all(selector, script)]


def press(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def step_to(page, week: int) -> None:
    """Press Step until the page shows ``week``."""
    while not week_text(page).startswith(f"Week {week} "):
        press(page, "Step")
        page.wait_for_function(
            "w => document.querySelector('.week-label').innerText.startsWith('Week ' + w + ' ')",
            arg=int(week_text(page).split()[1]) + 1,
            timeout=30_000,
        )


def wait_for_text(page, text: str, timeout: float = 30) -> None:
    page.get_by_text(text).first.wait_for(timeout=timeout * 1000)


def wait_for_lever(page, text: str) -> None:
    script = "t => document.querySelector('table.levers').innerText.includes(t)"
    page.wait_for_function(script, arg=text, timeout=30_000)


def test_page_loads_without_console_errors(page) -> None:
    assert week_text(page) == "Week 0 (2025-01-06)"
    assert len(figures(page)) >= 6  # map, trust, four time series
    wait_for_text(page, "lever in use")
    assert page.console_errors == []


def test_stepping_changes_the_time_series(page) -> None:
    before = figures(page)
    step_to(page, 4)
    page.wait_for_timeout(1500)
    after = figures(page)
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    assert changed >= 5, "map, trust and time series redraw as the model steps"
    page.screenshot(path=str(ROOT / "docs" / "dashboard.png"))
    assert page.console_errors == []


def lever(page, label: str):
    return page.locator(".lever", has_text=label)


def test_sliders_are_labelled_in_words_and_show_their_value(page) -> None:
    labels = page.eval_on_selector_all(".lever-label", "els => els.map(e => e.innerText)")
    assert len(labels) == 19
    assert "US trust in Russia (prior, 0–1)" in labels
    assert not [t for t in labels if "." in t.split("(")[0]], "no dotted config paths"
    trust = lever(page, "US trust in Russia (prior, 0–1)")
    assert trust.locator(".lever-value").inner_text() == "0.15"
    handle = trust.get_by_role("slider")
    handle.focus()
    handle.press("End")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.lever')].some(e =>"
        " e.innerText.includes('US trust in Russia') && e.innerText.includes('1.00'))",
        timeout=30_000,
    )
    assert trust.locator(".lever-value").inner_text() == "1.00"


def test_moving_a_slider_and_resetting_changes_the_parameter(page) -> None:
    wait_for_text(page, "sharing us->russia")
    assert "sharing us->russia\t0.00" in page.inner_text("table.levers")
    handle = lever(page, "US shares with Russia").get_by_role("slider")
    handle.focus()
    handle.press("End")  # to the maximum, 1.0
    press(page, "Reset")
    wait_for_lever(page, "sharing us->russia\t1.00")
    assert "sharing.policy.us.russia=1.0" in page.inner_text(".overrides")


def test_time_series_have_labelled_axes_from_zero(page) -> None:
    titles = {
        "attacks": "Successful attacks (cumulative)",
        "fatalities": "Fatalities (cumulative)",
        "interdiction": "Plots interdicted and exploitation events (cumulative)",
        "strength": "ISIS-K strength (fighters, this week)",
    }
    for key, title in titles.items():
        texts = svg_texts(page, f".series-{key}")
        assert title in texts
        assert "week" in texts  # the x-axis label
        ticks = [float(t.replace("\u2212", "-")) for t in texts if _is_number(t)]
        assert min(ticks) == 0, f"{key}: the y axis starts at 0 at week 0"
        assert max(ticks) >= 5, f"{key}: not squeezed to a tiny range around 0 at week 0"
    assert "attacks since week 0" in svg_texts(page, ".series-attacks")
    assert "deaths since week 0" in svg_texts(page, ".series-fatalities")


def _is_number(text: str) -> bool:
    try:
        float(text.replace("\u2212", "-"))
    except ValueError:
        return False
    return True


def test_map_colour_scale_is_fixed_and_labelled(page) -> None:
    bar = "#risk-colour-bar"
    before = svg_texts(page, f".region-map {bar}")
    assert "Attack risk (expected attacks," in before
    assert "40" in before
    assert "0" in before
    step_to(page, 3)
    assert svg_texts(page, f".region-map {bar}") == before, "the scale does not move"


def test_region_labels_do_not_overlap_on_screen(page) -> None:
    boxes = page.eval_on_selector_all(
        ".region-map [id^='region-label-']",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; })",
    )
    assert len(boxes) == 8
    for i, a in enumerate(boxes):
        assert a[2] > a[0], "each label is drawn"
        assert a[3] > a[1], "each label is drawn"
        for b in boxes[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, f"labels overlap: {a} {b}"


def test_own_title_and_week_with_date_instead_of_mesa_defaults(page) -> None:
    body = page.inner_text("body")
    assert "Intelligence sharing against ISIS-K" in page.inner_text(".v-toolbar")
    assert "PAGE 0" not in body.upper()
    assert "Time:" not in body
    step_to(page, 1)
    assert week_text(page) == "Week 1 (2025-01-13)"
    # the map redraws after the label: wait for it (under load it can lag a moment)
    script = (
        "t => [...document.querySelectorAll('.region-map text')]"
        ".some(e => e.textContent.includes(t))"
    )
    page.wait_for_function(script, arg="Week 1 (2025-01-13)", timeout=30_000)
    assert "Week 1 (2025-01-13)" in " ".join(svg_texts(page, ".region-map"))


def test_switching_scenario_applies_its_values(page) -> None:
    page.locator(".v-select", has_text="Scenario").click()
    page.get_by_role("option", name="trilateral", exact=True).click()
    press(page, "Reset")
    wait_for_text(page, "scenario trilateral")
    wait_for_lever(page, "sharing us->taliban\t0.70")


def test_a_bad_value_is_refused_with_a_message_next_to_the_controls(page) -> None:
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
    reset = page.get_by_role("button", name="Reset", exact=True).bounding_box()
    box = error.first.bounding_box()
    assert box["y"] < 400, "the message is at the top, in view without scrolling"
    assert 0 < box["y"] - reset["y"] < 150, "right under the Reset button"
    assert page.inner_text(".overrides") == "Overrides in force: none"


def test_each_session_has_its_own_model(browser, server: str) -> None:
    first = open_tab(new_context(browser), server)
    step_to(first, 3)
    other = open_tab(new_context(browser), server)  # a new browser context (session)
    same_context = open_tab(first.context, server)  # a new tab beside the first
    for tab in (other, same_context):
        assert week_text(tab) == "Week 0 (2025-01-06)"
    step_to(other, 1)
    first.wait_for_timeout(1000)
    assert week_text(first) == "Week 3 (2025-01-27)"
    assert week_text(same_context) == "Week 0 (2025-01-06)"
