"""Screenshot of the top of a report at 1400 x 900 (Debian's Chromium): docs/report_top.png.

scenarios experiment experiments/cooperation_options.yaml --workers 2 --out /tmp/coop
python docs/report_screenshot.py /tmp/coop/report.html docs/report_top.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def screenshot(report: Path, image: Path, width: int = 1400, height: int = 900) -> None:
    """Open ``report`` in a ``width`` x ``height`` window and save what shows to ``image``."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(report.resolve().as_uri())
        page.screenshot(path=str(image))
        browser.close()


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
