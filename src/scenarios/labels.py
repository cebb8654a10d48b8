"""Human labels, units and meanings of every outcome column, defined once.

The words for the outcomes of :mod:`scenarios.model.outcomes` (kept at the package's top
so that reports and the CLI read them without loading the model's compiled code; a test
checks that every column a run records has a label): every table, plot, report and
``scenarios outcomes`` takes its words from here. A column is a base name with
up to two entity suffixes (``attacks_successful__russia``, ``trust__us__taliban``);
``describe`` fills the base's template with the entities' names. Unknown columns keep
their raw name, so nothing is ever hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple


class OutcomeInfo(NamedTuple):
    """What an outcome column means: ``label`` (sentence case), ``unit``, ``meaning``."""

    label: str
    unit: str
    meaning: str


# Names of countries (as places) and actors (as agents); others are title-cased.
PLACE_NAMES: dict[str, str] = {
    "afghanistan": "Afghanistan",
    "pakistan": "Pakistan",
    "iran": "Iran",
    "central_asia": "Central Asia",
    "russia": "Russia",
    "west": "the West",
}
ACTOR_NAMES: dict[str, str] = {
    "us": "the US",
    "russia": "Russia",
    "taliban": "the Taliban",
    "iran": "Iran",
    "pakistan": "Pakistan",
}
ACTOR_ADJECTIVES: dict[str, str] = {
    "us": "US",
    "russia": "Russian",
    "taliban": "Taliban",
    "iran": "Iranian",
    "pakistan": "Pakistani",
}

# Template fields: {c} a country, {a} an actor ({adj} as an adjective), {a1}/{a2} a directed
# pair (first to second, {adj1} the first as an adjective), {k} a threshold, {part} a split.
_TOTAL = "all countries"
_BASES: dict[str, tuple[str, str, str]] = {
    # per country (or total without a suffix)
    "attacks_successful": (
        "Attacks in {c}",
        "attacks",
        "Successful attacks in {c} over the recorded weeks (sum).",
    ),
    "attacks_attempted": (
        "Attempted attacks in {c}",
        "attacks",
        "Plots that reached an attempt in {c}, successful or not (sum).",
    ),
    "fatalities": ("Deaths in {c}", "deaths", "Deaths from successful attacks in {c} (sum)."),
    "mass_casualty_attacks": (
        "Mass-casualty attacks in {c}",
        "attacks",
        "Successful attacks with at least 10 deaths in {c} (sum).",
    ),
    "mass_casualty_despite_warning": (
        "Mass-casualty attacks despite a warning, {c}",
        "attacks",
        "Mass-casualty attacks in {c} whose plot had been warned about (sum).",
    ),
    "attack_risk": (
        "Attack risk in {c}",
        "probability per year",
        "Share of whole simulated years with at least one mass-casualty attack in {c}; "
        "averaged over replications, the annual probability of one.",
    ),
    "mass_casualty_years": (
        "Years with a mass-casualty attack, {c}",
        "years",
        "Whole simulated years with at least one mass-casualty attack in {c}.",
    ),
    "attack_change": (
        "Change of attacks in {c}, first to last half-year",
        "ratio",
        "Relative change of successful attacks in {c} from the first 26 recorded weeks "
        "to the last 26.",
    ),
    "strength": ("Fighters in {c}", "fighters", "ISIS-K fighters based in {c} (weekly level)."),
    "final_strength": (
        "Fighters in {c} at the end",
        "fighters",
        "ISIS-K fighters based in {c} in the last recorded week.",
    ),
    "min_strength": ("Fewest fighters", "fighters", "Lowest weekly ISIS-K strength."),
    "max_strength": ("Most fighters", "fighters", "Highest weekly ISIS-K strength."),
    # totals only
    "plots_started": ("Plots started", "plots", "Plots begun by cells (sum)."),
    "plots_detected": ("Plots detected", "plots", "Plots that some actor came to know of (sum)."),
    "plots_interdicted": ("Plots stopped", "plots", "Plots ended by an interdiction (sum)."),
    "interdicted_without_intelligence": (
        "Plots stopped without intelligence",
        "plots",
        "Interdictions by host security or chance, with no actor's knowledge (sum).",
    ),
    "plots_abandoned": ("Plots abandoned", "plots", "Plots given up by their cell (sum)."),
    "warnings_issued": ("Warnings issued", "warnings", "Duty-to-warn messages sent (sum)."),
    "warnings_heeded": ("Warnings heeded", "warnings", "Warnings the receiver acted on (sum)."),
    "attacks_despite_warning": (
        "Attacks despite a warning",
        "attacks",
        "Successful attacks whose plot had been warned about (sum).",
    ),
    "leaks": ("Leaks of shared material", "events", "Shared items leaked, all senders (sum)."),
    "cells": ("Cells", "cells", "ISIS-K cells (weekly level)."),
    "final_cells": ("Cells at the end", "cells", "ISIS-K cells in the last recorded week."),
    "live_plots": ("Plots under way", "plots", "Plots not yet resolved (weekly level)."),
    "final_live_plots": (
        "Plots under way at the end",
        "plots",
        "Plots not yet resolved in the last recorded week.",
    ),
    "share_interdicted": (
        "Share of plots stopped",
        "share 0-1",
        "Interdicted plots over interdicted plus attempted.",
    ),
    "share_abroad_first_year": (
        "Share of attacks abroad, first year",
        "share 0-1",
        "Share of successful attacks outside the home country in the first recorded year.",
    ),
    "share_abroad_last_year": (
        "Share of attacks abroad, last year",
        "share 0-1",
        "Share of successful attacks outside the home country in the last recorded year.",
    ),
    "years": ("Whole years simulated", "years", "Whole 52-week years in the recorded weeks."),
    "attacks_with_fatalities_ge": (
        "Attacks with at least {k} deaths",
        "attacks",
        "Successful attacks with at least {k} deaths (the severity tail).",
    ),
    "plot_age_at_attack_mean": (
        "Plot age at attack{part}",
        "weeks",
        "Mean age of plots when they reached an attempt{part}.",
    ),
    "plot_age_at_interdiction_mean": (
        "Plot age when stopped{part}",
        "weeks",
        "Mean age of plots when they were interdicted{part}.",
    ),
    # per actor
    "exploitation_against": (
        "{adj} material misused",
        "events",
        "Items {a} shared that a receiver exploited against it (sum).",
    ),
    "leaks_of": ("{adj} material leaked", "events", "Items {a} shared that leaked (sum)."),
    "ci_exposure": (
        "{adj} material misused or leaked",
        "events",
        "Exposure of what {a} shared: misuse plus leaks (sum).",
    ),
    "interdicted_by": ("Plots stopped by {a}", "plots", "Interdictions credited to {a} (sum)."),
    "interdicted_after_warning": (
        "Plots stopped by {a} after a warning",
        "plots",
        "Interdictions by {a} acting on a heeded warning (sum).",
    ),
    "coverage_health": (
        "{adj} collection health",
        "0-1",
        "Health of {a}'s collection coverage (weekly level).",
    ),
    "final_coverage_health": (
        "{adj} collection health at the end",
        "0-1",
        "Health of {a}'s collection coverage in the last recorded week.",
    ),
    "crackdown": ("{adj} crackdown", "0-1", "Level of {a}'s crackdown at home (weekly level)."),
    "final_crackdown": (
        "{adj} crackdown at the end",
        "0-1",
        "Level of {a}'s crackdown at home in the last recorded week.",
    ),
    # per directed pair
    "shared": ("Items {a1} shared with {a2}", "items", "Items {a1} passed to {a2} (sum)."),
    "interdicted_with_shared": (
        "Plots {a2} stopped with {adj1} material",
        "plots",
        "Interdictions by {a2} using material from {a1} (sum).",
    ),
    "trust": ("Trust of {a1} in {a2}", "0-1", "Trust of {a1} in {a2} (weekly level)."),
    "final_trust": (
        "Trust of {a1} in {a2} at the end",
        "0-1",
        "Trust of {a1} in {a2} in the last recorded week.",
    ),
}
_PARTS = {"domestic": ", domestic", "abroad": ", abroad"}
_PART_MEANING = {"": "", "domestic": " (target at home)", "abroad": " (target abroad)"}


def place_name(country: str) -> str:
    """A country id as a place: ``central_asia`` -> ``Central Asia``."""
    return PLACE_NAMES.get(country, country.replace("_", " ").title())


def actor_name(actor: str) -> str:
    """An actor id as a name: ``us`` -> ``the US``."""
    return ACTOR_NAMES.get(actor, actor.replace("_", " ").title())


def actor_adjective(actor: str) -> str:
    """An actor id as an adjective: ``russia`` -> ``Russian``."""
    return ACTOR_ADJECTIVES.get(actor, actor.replace("_", " ").title())


def describe(column: str) -> OutcomeInfo:
    """Label, unit and meaning of a summary or timeseries column (raw name if unknown)."""
    base, *entities = column.split("__")
    template = _BASES.get(base)
    pair = "{a1}" in template[0] or "{a2}" in template[0] if template else False
    actor = "{a}" in template[0] or "{adj}" in template[0] if template else False
    if template is None or len(entities) != (2 if pair else 1 if actor else len(entities)):
        return OutcomeInfo(column, "", "")
    if not (pair or actor) and len(entities) > 1:
        return OutcomeInfo(column, "", "")
    fields = dict.fromkeys(("a", "adj", "a1", "a2", "adj1", "k", "part"), "")
    fields["c"] = _TOTAL
    if base == "attacks_with_fatalities_ge":
        fields["k"] = entities[0] if entities else "?"
    elif base.startswith("plot_age"):
        part = entities[0] if entities else ""
        fields["part"] = _PARTS.get(part, f", {part}" if part else "")
        label, unit, meaning = template
        return OutcomeInfo(
            label.format(**fields),
            unit,
            meaning.format(**{**fields, "part": _PART_MEANING.get(part, "")}),
        )
    elif len(entities) == 2:
        fields["a1"], fields["a2"] = actor_name(entities[0]), actor_name(entities[1])
        fields["adj1"] = actor_adjective(entities[0])
    elif len(entities) == 1:
        fields["c"] = place_name(entities[0])
        fields["a"] = actor_name(entities[0])
        fields["adj"] = actor_adjective(entities[0])
    label, unit, meaning = (part.format(**fields) for part in template)
    if not entities and "{c}" in template[0]:
        label = label.replace(f" in {_TOTAL}", ", total").replace(f", {_TOTAL}", ", total")
    return OutcomeInfo(label[0].upper() + label[1:], unit, meaning)


def label(column: str) -> str:
    """The human label of a column: ``attacks_successful__russia`` -> Attacks in Russia."""
    return describe(column).label


def holder_name(actor: str) -> str:
    """An actor named as the holder of a territory, in brackets: ``us`` -> ``US``."""
    return actor_name(actor).removeprefix("the ")


def place_with_holders(country: str, territory: Mapping[str, Sequence[str]]) -> str:
    """A country with the actors whose territory it is, unless named alike.

    ``west`` -> "the West (US)", ``afghanistan`` -> "Afghanistan (Taliban)", ``russia`` ->
    "Russia". ``territory`` maps actor -> countries (``compare.territories``).
    """
    place = place_name(country)
    holders = [
        holder_name(a)
        for a, countries in territory.items()
        if country in countries and holder_name(a) != place
    ]
    return f"{place} ({', '.join(holders)})" if holders else place


def territory_label(column: str, territory: Mapping[str, Sequence[str]]) -> str:
    """``label(column)`` with its country followed by the actors holding it.

    "Attacks in the West (US)", "Attack risk in Afghanistan (Taliban)", "Attacks in
    Russia": the reader sees whose territory a per-country outcome is kept for.
    """
    text = label(column)
    _, _, country = column.partition("__")
    if not country or "__" in country:
        return text
    place = place_name(country)
    if place not in text:
        return text
    return text.replace(place, place_with_holders(country, territory), 1)


def known_bases() -> tuple[str, ...]:
    """Base names that have a label (``scenarios outcomes`` lists them)."""
    return tuple(_BASES)
