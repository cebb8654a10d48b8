"""A report page in Debian's headless Chromium (Playwright): what its first screen shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 800  # a laptop screen: the first screen of a report

_SKIP = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium not installed (make test installs it with apt-get)",
)


def browser_test[F](test: F) -> F:
    """Mark a test that opens Chromium: slow, skipped where Debian's chromium is missing."""
    return pytest.mark.slow(_SKIP(test))


@dataclass
class Box:
    """An element's place on the page, in CSS pixels from the top left of the page."""

    top: float
    bottom: float
    right: float


@dataclass
class FirstScreen:
    """What a report shows at WIDTH x HEIGHT before any scrolling."""

    texts: dict[str, Box | None]  # the first visible element holding each text; None if none
    first_image: Box | None  # the first <img> of the page
    first_image_width: int  # its naturalWidth: 0 if it did not load
    page_width: int  # scrollWidth: above WIDTH, the page scrolls sideways

    def shows(self, box: Box | None) -> bool:
        """Whether ``box`` lies wholly within the first screen."""
        return box is not None and box.top >= 0 and box.bottom <= HEIGHT and box.right <= WIDTH


def first_screen(page: Path, *texts: str, selector: str = "p, li, td, h1, h2") -> FirstScreen:
    """Open ``page`` (a file) at WIDTH x HEIGHT and find the first ``selector`` per text."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            tab = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            tab.goto(page.resolve().as_uri(), wait_until="load")
            boxes = {}
            for text in texts:
                found = tab.locator(selector, has_text=text).first
                shown = found.count() > 0 and found.is_visible()
                boxes[text] = _box(found.bounding_box()) if shown else None
            image = tab.locator("img").first
            has_image = image.count() > 0
            natural = (
                int(image.evaluate("e => e.complete ? e.naturalWidth : 0")) if has_image else 0
            )
            image_box = _box(image.bounding_box()) if has_image else None
            width = int(tab.evaluate("document.documentElement.scrollWidth"))
        finally:
            browser.close()
    return FirstScreen(boxes, image_box, natural, width)


def _box(raw: dict[str, float] | None) -> Box | None:
    if raw is None:
        return None
    return Box(raw["y"], raw["y"] + raw["height"], raw["x"] + raw["width"])
