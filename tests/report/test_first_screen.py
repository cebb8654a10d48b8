"""Each decision report answers its question on its first screen (issue 13).

links, optimise, discover and calibration reports opened in Debian's headless Chromium at
1280 x 800: the sentence that answers the question lies wholly above the fold, the first
figure is a loaded image that starts on the first screen, and nothing scrolls sideways.
The links and optimise reports come from the CLI on tiny budgets; discover from PRIM on
synthetic points; calibration from the synthetic directory of its own tests. The
headline sentences themselves are checked on known values first (no browser).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tests.conftest import CONFIGS, WORKERS, run_cli, small_optimisation
from tests.report.chromium import HEIGHT, WIDTH, FirstScreen, browser_test, first_screen
from tests.report.test_calibration_report import make_calibration

from scenarios.decision.discover import describe, find_box
from scenarios.decision.optimise import load_optimise
from scenarios.report.calibration_report import write_calibration_report
from scenarios.report.discover_report import write_discover_report
from scenarios.report.links_report import headline as links_headline
from scenarios.report.optimise_report import headline as optimise_headline
from scenarios.report.optimise_report import lever_name

IN_SHORT = "In short."


def link_values(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """A links.csv-like frame: (link, outcome, Shapley value), intervals +/- 1."""
    frame = pd.DataFrame(rows, columns=["link", "outcome", "shapley"])
    return frame.assign(ci_low=frame.shapley - 1, ci_high=frame.shapley + 1, n=20)


def test_the_links_headline_names_the_link_that_lowers_attacks_most() -> None:
    values = link_values(
        [
            ("us>russia", "attacks_successful__russia", -4.0),
            ("us>russia", "ci_exposure__us", 3.0),
            ("us>taliban", "attacks_successful__afghanistan", -0.5),
            ("us>taliban", "ci_exposure__us", 9.0),
        ]
    )
    text = links_headline(values, ["us>russia", "us>taliban"])
    assert text.startswith("**In short.** `us>russia` lowers attacks in its receiver's country")
    assert "attacks in Russia -4.0 [-5.0, -3.0], for exposure of US material +3.0" in text
    assert "`us>taliban` exposes most: US material +9.0 [+8.0, +10.0]." in text
    zero = link_values([(r.link, r.outcome, 0.0) for r in values.itertuples()])
    none = links_headline(zero, ["us>russia", "us>taliban"])
    assert "No link lowers attacks" in none
    assert "(its interval includes 0)" in none


def test_the_optimise_headline_names_the_best_policy_per_objective_on_fresh_seeds() -> None:
    spec, _, _ = load_optimise(CONFIGS / "optimise" / "us_exposure_budget.yaml")
    front = pd.DataFrame(
        {
            "policy": ["P1", "P2"],
            "attacks_successful__russia": [1.0, 3.0],
            "attacks_successful__afghanistan": [30.0, 20.0],
            "attacks_successful__russia__fresh": [2.5, 2.0],  # the search's best fell back
            "attacks_successful__afghanistan__fresh": [31.0, 21.0],
            "feasible__fresh": [True, False],
        }
    )
    text = optimise_headline(spec, front)
    assert "fewest attacks in Russia: P2 (2)" in text
    assert "fewest attacks in Afghanistan: P2 (21)" in text
    assert "1 of 2 still meet the constraints on fresh seeds" in text
    assert "empty" in optimise_headline(spec, front.iloc[:0])
    assert lever_name("sharing.policy.us.russia") == "us>russia"
    assert lever_name("sharing.compartmentalisation") == "compartmentalisation"


def assert_answers_on_first_screen(screen: FirstScreen, *texts: str) -> None:
    """Each text wholly visible above the fold; the first figure loaded and begun there."""
    for text in texts:
        assert screen.shows(screen.texts[text]), (text, screen.texts[text])
    assert screen.first_image_width > 0, "the first figure is an image that loaded"
    assert screen.first_image is not None
    assert screen.first_image.top < HEIGHT, screen.first_image
    assert screen.page_width <= WIDTH, "no sideways scrolling"


@browser_test
def test_links_report_first_screen(tmp_path: Path) -> None:
    out = tmp_path / "links"
    args = ("-n", "2", "--steps", "26", "--workers", WORKERS, "--out", out)
    res = run_cli("links", CONFIGS / "baseline.yaml", *args)  # the six default links
    assert res.returncode == 0, res.stderr
    screen = first_screen(out / "report.html", IN_SHORT, "taliban>russia: attacks in Russia")
    # the answer, and the last of the six per-link lines
    assert_answers_on_first_screen(screen, IN_SHORT, "taliban>russia: attacks in Russia")


@browser_test
def test_optimise_report_first_screen(tmp_path: Path) -> None:
    path, _ = small_optimisation(tmp_path)
    out = tmp_path / "out"
    res = run_cli("optimise", path, "--workers", WORKERS, "--out", out)
    assert res.returncode == 0, res.stderr
    screen = first_screen(out / "report.html", IN_SHORT, "P1")
    assert_answers_on_first_screen(screen, IN_SHORT, "P1")  # the front's first policy row
    assert screen.shows(screen.first_image), "the whole Pareto front chart"


@browser_test
def test_discover_report_first_screen(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    names = ["trust.initial.us.russia", "exploitation.russia.us", "threat.plot_rate"]
    x = pd.DataFrame(rng.random((500, 3)), columns=names)
    y = ((x[names[0]] > 0.45) & (x[names[1]] < 0.2)).to_numpy()
    where = "effect:attack_risk__russia < -0.05 and effect:ci_exposure__us < 20"
    box = find_box(x, y)
    sentence = describe(box, {n: (0.0, 1.0) for n in names}, where)
    page = write_discover_report(tmp_path, box, sentence, tmp_path / "sweep", where)
    screen = first_screen(page, "holds at", "exploitation.russia.us")
    assert_answers_on_first_screen(screen, "holds at", "exploitation.russia.us")


@browser_test
def test_calibration_report_first_screen(tmp_path: Path) -> None:
    page = write_calibration_report(make_calibration(tmp_path / "cal"))
    # the bottom line and the last target's verdict (the verdict table's last row)
    screen = first_screen(page, IN_SHORT, "model too low")
    assert_answers_on_first_screen(screen, IN_SHORT, "model too low")
