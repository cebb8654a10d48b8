"""The top of a comparison report: the decision summary and the frontier fit one screen.

Five scenarios, as in experiments/cooperation_options.yaml, opened in Debian's Chromium
at 1400 x 900: both must be fully visible without scrolling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.conftest import COUNTRIES, synthetic_summary
from tests.report.test_decision import SEEDS, N, attacks, stored

from scenarios.experiment.compare import compare
from scenarios.report.compare_report import write_comparison

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed"),
]
SCENARIOS = ("baseline", "us_taliban", "us_russia", "trilateral", "trilateral_compartmentalised")


def test_decision_summary_and_frontier_fit_a_1400_by_900_window(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    runs = []
    for k, name in enumerate(SCENARIOS):
        summary = synthetic_summary(attacks({c: -k for c in COUNTRIES}, 200 + k), SEEDS)
        summary["ci_exposure__us"] = 40.0 * k + np.arange(N) % 7
        run = stored(name, summary)
        run.manifest["timeseries"] = False  # no weekly figures: the summary is what counts
        runs.append(run)
    cmp = compare(runs)
    description = (
        "The status quo against four cooperation arrangements: bilateral, trilateral, and "
        "trilateral limited to sanitised material."
    )
    write_comparison(cmp, tmp_path, "Experiment cooperation_options", description)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto((tmp_path / "report.html").as_uri())
        boxes = {
            name: page.locator(selector).bounding_box()
            for name, selector in (
                ("summary", ".verdicts"),
                ("frontier", ".frontier img"),
                ("last table", ".verdicts table >> nth=-1"),
            )
        }
        width = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    for name, box in boxes.items():
        assert box is not None, name
        assert box["y"] >= 0, name
        assert box["y"] + box["height"] <= 900, (name, box)
        assert box["x"] + box["width"] <= 1400, (name, box)
    assert width <= 1400  # no sideways scrolling
    assert boxes["frontier"]["x"] > boxes["summary"]["x"] + 0.5 * boxes["summary"]["width"]
