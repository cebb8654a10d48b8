"""The decision summary of a comparison: per partner, lower / higher / cannot be told apart.

One place computes the words and numbers that the terminal, report.md and report.html
show, so they cannot disagree: :func:`change_text` formats a difference with enough
digits to be an interval (relative only where the baseline level supports it),
:func:`summary_tables` gives the per-partner tables, :func:`bottom_line` one sentence per
scenario.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scenarios.experiment.compare import CORE_ACTORS, Comparison, Effect
from scenarios.labels import actor_adjective, label, place_name, place_with_holders

MARKS = {"lower": "lower", "higher": "higher", "cannot be told apart": "unclear"}


def decimals(half_width: float) -> int:
    """Decimal places that show two significant digits of a half-width (0 to 4)."""
    if not math.isfinite(half_width) or half_width <= 0:
        return 2
    return max(0, min(4, 1 - math.floor(math.log10(half_width))))


def number(value: float, places: int, sign: bool = False) -> str:
    """``value`` at ``places`` decimals (thousands separated), signed if asked; n/a if NaN."""
    if not math.isfinite(value):
        return "n/a"
    if places == 0 and abs(value) < 0.5:
        value = 0.0
    return f"{value:+,.{places}f}" if sign else f"{value:,.{places}f}"


@dataclass(frozen=True)
class Change:
    """A difference as text: ``value`` ("-12%", "+22.6"), ``interval`` ("[-20%, -4.0%]")."""

    value: str
    interval: str
    relative: bool  # a relative change (percent) rather than the absolute difference

    def __str__(self) -> str:
        return f"{self.value} {self.interval}"


def change_text(effect: Effect) -> Change:
    """The effect as shown everywhere: relative when supported, else absolute."""
    if effect.relative_supported:
        est, scale, unit = effect.relative, 100.0, "%"
    else:
        est, scale, unit = effect.diff, 1.0, ""
    places = decimals(scale * est.half_width)
    value = number(scale * est.value, places, sign=True) + unit
    low = number(scale * est.low, places, sign=True) + unit
    high = number(scale * est.high, places, sign=True) + unit
    return Change(value, f"[{low}, {high}]", effect.relative_supported)


def level_text(value: float, low: float, high: float) -> str:
    """A level with its interval, at the interval's precision: ``0.41 [0.37, 0.45]``."""
    places = decimals((high - low) / 2)
    return f"{number(value, places)} [{number(low, places)}, {number(high, places)}]"


@dataclass(frozen=True)
class Place:
    """A partner country (or all countries): ``country`` None for the total."""

    country: str | None
    name: str  # "Russia", "the West (US)", "All countries"

    def outcome(self, prefix: str) -> str:
        """Outcome ``prefix`` for this place: ``attacks_successful__russia``, or the total."""
        return prefix if self.country is None else f"{prefix}__{self.country}"


def partner_places(cmp: Comparison) -> list[Place]:
    """The partners' territories (actor order), then all countries."""
    places: list[Place] = []
    for actor in CORE_ACTORS:
        for country in cmp.territory.get(actor, []):
            if all(p.country != country for p in places):
                places.append(Place(country, place_with_holders(country, cmp.territory)))
    return [*places, Place(None, "All countries")]


DECISION_PREFIXES = ("attack_risk", "attacks_successful")  # per place, in table order


def decision_outcomes(cmp: Comparison) -> list[str]:
    """The decision summary's outcomes, in its order.

    Attack risk and attacks per place (:func:`partner_places`), then the exposure of each
    core actor.
    """
    places = partner_places(cmp)
    return [p.outcome(prefix) for prefix in DECISION_PREFIXES for p in places] + [
        f"ci_exposure__{actor}" for actor in CORE_ACTORS
    ]


def _find(cmp: Comparison, scenario: str, outcome: str) -> Effect | None:
    try:
        return cmp.effect(scenario, outcome)
    except KeyError:
        return None


def cell(effect: Effect | None) -> str:
    """One table cell: change, interval and verdict; a dash if not compared."""
    if effect is None:
        return "-"
    return f"{change_text(effect)} {MARKS[effect.verdict]}"


@dataclass(frozen=True)
class SummaryTable:
    """A decision table: a title, the row header's name, rows of (name, cells per scenario)."""

    title: str
    corner: str
    rows: list[tuple[str, list[str]]]


def summary_tables(cmp: Comparison) -> list[SummaryTable]:
    """Attack risk and attacks per partner (and total), and exposure per actor."""
    others = cmp.others()
    places = partner_places(cmp)
    tables = []
    for title, prefix in (
        ("Attack risk (annual probability of a mass-casualty attack)", "attack_risk"),
        ("Successful attacks", "attacks_successful"),
    ):
        rows = []
        for place in places:
            effects = [_find(cmp, s, place.outcome(prefix)) for s in others]
            if any(e is not None for e in effects):
                rows.append((place.name, [cell(e) for e in effects]))
        if rows:
            tables.append(SummaryTable(title, "where", rows))
    rows = []
    for actor in CORE_ACTORS:
        effects = [_find(cmp, s, f"ci_exposure__{actor}") for s in others]
        if any(e is not None for e in effects):
            rows.append((label(f"ci_exposure__{actor}"), [cell(e) for e in effects]))
    if rows:
        tables.append(SummaryTable("Exposure: shared material misused or leaked", "whose", rows))
    return tables


def bottom_line(cmp: Comparison, scenario: str) -> str:
    """One sentence in words: what the scenario changes for the partners, and the cost.

    Only changes with a verdict (lower or higher) are named, each with its point estimate;
    the tables carry the intervals. "Nothing else can be told apart" closes the list.
    """
    said: dict[str, list[str]] = {}
    unclear = 0
    for noun, prefix in (("attacks", "attacks_successful"), ("attack risk", "attack_risk")):
        for place in partner_places(cmp):
            effect = _find(cmp, scenario, place.outcome(prefix))
            if effect is None:
                continue
            if effect.verdict == "cannot be told apart":
                unclear += 1
                continue
            down = effect.verdict == "lower"
            lead = (
                ("fewer" if down else "more")
                if noun == "attacks"
                else ("lower" if down else "higher")
            )
            where = "in total" if place.country is None else f"in {place_name(place.country)}"
            said.setdefault(f"{lead} {noun}", []).append(f"{where} ({change_text(effect).value})")
    phrases = [f"{lead} {_join(places)}" for lead, places in said.items()]
    costs: dict[str, list[str]] = {"higher": [], "lower": []}
    for actor in CORE_ACTORS:
        effect = _find(cmp, scenario, f"ci_exposure__{actor}")
        if effect is not None and effect.verdict != "cannot be told apart":
            change = change_text(effect)
            unit = "" if change.relative else " events"
            costs[effect.verdict].append(f"{actor_adjective(actor)} ({change.value}{unit})")
    if phrases:
        sentence = "; ".join(phrases)
        if unclear:
            sentence += "; nothing else can be told apart"
    else:
        sentence = "no change in attacks or attack risk that can be told apart"
    for verdict, verb in (("higher", "rise"), ("lower", "fall")):
        if costs[verdict]:
            sentence += f"; misuse or leaks of {_join(costs[verdict])} material {verb}"
    return sentence[0].upper() + sentence[1:] + "."


def needs_note(cmp: Comparison) -> str:
    """The replications that would tell the unclear cells of the decision tables apart.

    For each outcome of the tables with an unclear, imprecise difference (see
    ``Effect.too_imprecise``): the range over scenarios of the replications whose interval
    would be as narrow as the difference worth telling, and that difference. Empty if
    there are none.
    """
    shown = set(decision_outcomes(cmp))
    found: dict[str, list[Effect]] = {}
    for effect in cmp.effects:
        if effect.outcome in shown and effect.too_imprecise:
            found.setdefault(effect.outcome, []).append(effect)
    if not found:
        return ""
    parts = []
    for outcome, effects in found.items():
        low = min(e.needed for e in effects)
        high = max(e.needed for e in effects)
        count = f"{low:,}" if low == high else f"{low:,}-{high:,}"
        size = effects[0].size
        parts.append(f"{cmp.label(outcome)} {count} (a change of {size:.2g})")
    have = max(e.replications for effects in found.values() for e in effects)
    return (
        f"Replications that would tell the unclear changes of this size apart (have {have:,}): "
        + "; ".join(parts)
        + "."
    )


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def reading_note(cmp: Comparison) -> str:
    """How to read the verdicts and intervals (the statistics stated)."""
    n_tests = len(cmp.effects)
    return (
        "Each cell: the change against the baseline with its 95% interval, then the verdict. "
        "Changes are relative (%) where the baseline level supports it (clear of zero, "
        "interval at most half its size); otherwise the absolute difference. A verdict of "
        "lower or higher means the difference is clear after controlling the false "
        f"discovery rate at 5% over all {n_tests} differences of this comparison "
        "(Benjamini-Hochberg); unclear means it cannot be told apart from zero at this "
        "number of replications. Intervals are each 95% on their own, so one that just "
        "excludes zero can still be unclear. A comparison of stylised scenarios, not a "
        "forecast."
    )
