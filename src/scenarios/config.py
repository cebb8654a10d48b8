"""Scenario configuration: schema, YAML loading, ``extends:`` inheritance, dotted overrides.

A scenario is a YAML file validated into a :class:`ScenarioConfig`. Every field carries
its unit and range in its description, which is what ``scenarios schema`` prints.
Unknown keys are errors; every number is finite and bounded on both sides (every
probability to [0, 1]); booleans and numbers do not stand in for each other; every actor,
region or country named anywhere must exist. Errors are raised as :class:`ConfigError`,
which names the offending key path, the value (shortened) and what is allowed.

Every YAML file the tool reads (configs, their ``extends:`` parents, experiments, sweeps)
and every ``--set`` value goes through :func:`read_yaml` or :func:`parse_override`: only
regular files of at most ``MAX_YAML_BYTES``, no duplicate keys, no recursive aliases, and
at most ``MAX_YAML_NODES`` nodes with every alias expanded (a few hundred bytes of aliases
can otherwise stand for billions of values).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import os
import re
import stat
from collections import deque
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from scenarios.names import NAME_RULE, PlainName

# Limits on what the tool reads (every YAML file and every --set value).
MAX_YAML_BYTES = 1 << 20  # 1 MiB: the shipped configs are a few KiB
MAX_YAML_NODES = 100_000  # nodes of a document with every alias expanded
MAX_YAML_DEPTH = 64  # nesting levels (a config has about 5)
MAX_SHOWN = 200  # characters of a value echoed in an error message
MAX_MESSAGE = 2000  # characters of an error message
MAX_ERRORS = 5  # validation errors described in one message


def _not_bool(kind: str, what: str) -> BeforeValidator:
    """Refuse ``true``/``false`` where a number is expected (bool is an int in Python)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError(
                f"{kind}_type", f"Input should be a valid {what}, not a boolean (true/false)"
            )
        return value

    return BeforeValidator(check)


def _date_only(value: Any) -> Any:
    """Refuse numbers where a date is expected (pydantic would read them as Unix time)."""
    if isinstance(value, bool | int | float):
        raise PydanticCustomError(
            "date_type", "Input should be an ISO date (YYYY-MM-DD), not a number or boolean"
        )
    return value


# Field types: finite numbers (see ``_Strict``) that never coerce from or to booleans.
# Bounds come before the boolean check so that the JSON schema shows them as
# minimum/maximum.
_NUMBER = _not_bool("float", "number")
Float = Annotated[float, _NUMBER]
Int = Annotated[int, _not_bool("int", "integer")]
Bool = StrictBool
Date = Annotated[dt.date, BeforeValidator(_date_only)]
Probability = Annotated[float, Field(ge=0.0, le=1.0), _NUMBER]
Stance = Annotated[float, Field(ge=-1.0, le=1.0), _NUMBER]
Weight = Annotated[float, Field(ge=0.0, le=1_000_000.0), _NUMBER]
Coordinate = Annotated[float, Field(ge=-1_000_000.0, le=1_000_000.0), _NUMBER]


class ConfigError(ValueError):
    """Bad user input in a config: carries the key path, the value and what is allowed."""

    def __init__(self, message: str, *, source: str | None = None, path: str | None = None):
        self.source = source
        self.path = path
        prefix = f"{source}: " if source else ""
        # One paragraph, of bounded length, whatever the input put into it.
        text = " ".join(f"{prefix}{message}".splitlines())
        super().__init__(_clip(text, MAX_MESSAGE))


class ModelLimitError(ValueError):
    """A run whose parameters drive the model past a size it is built for (exit code 2).

    Raised by ``scenarios.model.simulation`` (see ``MAX_LIVE_PLOTS``, ``MAX_LIVE_CELLS``
    there); the message names the limit and the parameters that drive it. Defined here,
    with the other bad-input error, so that the CLI can catch it without importing the
    model.
    """


def _clip(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` shortened to at most ``limit`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(value: Any) -> str:
    """A value as JSON for an error message, at most ``MAX_SHOWN`` characters, never slow."""
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"(an integer of {value.bit_length():,} bits)"
    if isinstance(value, str):
        value = value[: MAX_SHOWN + 1]
    text = ""
    try:
        # The pure-Python encoder is lazy: stop as soon as enough text is produced.
        for chunk in json.JSONEncoder(default=str).iterencode(value):
            text += chunk
            if len(text) > MAX_SHOWN:
                break
    except (ValueError, TypeError, RecursionError):
        return f"(a {type(value).__name__})"
    return _clip(text)


def undirected(neighbours: dict[str, list[str]]) -> dict[str, set[str]]:
    """Each node's neighbours both ways: a listed pair is an edge in either direction."""
    adjacent: dict[str, set[str]] = {node: set() for node in neighbours}
    for node, others in neighbours.items():
        for other in others:
            adjacent[node].add(other)
            adjacent.setdefault(other, set()).add(node)
    return adjacent


def hops_from(adjacent: dict[str, set[str]], start: str) -> dict[str, int]:
    """Shortest-path hops from ``start`` to every node it reaches (breadth-first search).

    The region network's one search: connectivity here, hop distances in
    ``model.regions``. Validation runs for every sample point of a sweep, so a few lines
    rather than networkx (a tenth of a second to import).
    """
    hops = {start: 0}
    frontier = deque([start])
    while frontier:
        node = frontier.popleft()
        for other in adjacent[node]:
            if other not in hops:
                hops[other] = hops[node] + 1
                frontier.append(other)
    return hops


def components(neighbours: dict[str, list[str]]) -> list[set[str]]:
    """Connected components of the undirected graph whose edges are ``neighbours``' pairs."""
    adjacent = undirected(neighbours)
    parts: list[set[str]] = []
    seen: set[str] = set()
    for start in adjacent:
        if start not in seen:
            parts.append(set(hops_from(adjacent, start)))
            seen |= parts[-1]
    return parts


def _listing(items: list[str], limit: int = 30) -> str:
    """Comma-separated ``items``, at most ``limit`` of them."""
    shown = ", ".join(_clip(str(i), 50) for i in items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=False, validate_assignment=False, allow_inf_nan=False
    )


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------


class RunSettings(_Strict):
    """How long and how often a scenario is simulated."""

    steps: Int = Field(
        260, ge=1, le=5200, description="Recorded weeks to simulate (weeks, 1-5200)."
    )
    replications: Int = Field(
        100, ge=1, le=1_000_000, description="Independent replications (count, 1-1,000,000)."
    )
    seed: Int = Field(
        20240322,
        ge=0,
        le=2**63 - 1,
        description="Root seed of the numpy SeedSequence (integer, 0 to 2^63 - 1).",
    )
    start: Date = Field(
        dt.date(2025, 1, 6),
        ge=dt.date(1900, 1, 1),
        le=dt.date(2200, 12, 31),
        description="Calendar date of step 0 (a Monday, ISO date, 1900-01-01 to 2200-12-31).",
    )
    burn_in: Int = Field(
        26,
        ge=0,
        le=520,
        description="Unrecorded spin-up weeks before `start`, so the plot pipeline is "
        "populated at step 0 (weeks, 0-520). Dated interventions are inactive during spin-up.",
    )
    timeseries: Bool = Field(
        True,
        description="Write timeseries.parquet (every weekly outcome of every replication, "
        "streamed to disk as replications finish). false keeps only summary.parquet: no "
        "weekly figures in the run's report or in comparisons with it (`scenarios run "
        "--no-timeseries`). Does not change any result.",
    )


class RegionSpec(_Strict):
    """A node of the region network: who lives there, who rules, how exposed it is."""

    country: str = Field(description="Country (or country group) used for outcomes (id).")
    jurisdiction: str | None = Field(
        None, description="Actor holding jurisdiction, or null if the host state is not modelled."
    )
    neighbours: list[str] = Field(
        default_factory=list, description="Adjacent regions (ids); the network is undirected."
    )
    grievance: Probability = Field(0.3, description="Recruitment grievance index [0, 1].")
    economic_stress: Probability = Field(0.3, description="Economic stress index [0, 1].")
    minority_exposure: Probability = Field(
        0.3, description="Exposure of marginalised minorities to propaganda [0, 1]."
    )
    attractiveness: Probability = Field(
        0.5, description="Target attractiveness to ISIS-K strategy [0, 1]."
    )
    hardening: Probability = Field(
        0.5, description="Protective hardening: probability an attack attempt fails [0, 1]."
    )
    host_security: Probability = Field(
        0.0,
        description="Weekly hazard that security with no intelligence on the plot (guards, "
        "checkpoints, chance) stops a plot targeting this region [0, 1] (per week).",
    )
    host_pressure: Probability = Field(
        0.0,
        description="Standing counter-terrorism pressure of the host state on cells based "
        "here, besides any modelled crackdown [0, 1]: adds `threat.host_attrition` x pressure "
        "to fighter attrition and makes the region a less appealing base.",
    )
    position: tuple[Coordinate, Coordinate] | None = Field(
        None,
        description="Layout position for plots and the dashboard (x, y), each within "
        "[-1,000,000, 1,000,000].",
    )


class CrackdownSpec(_Strict):
    """An actor's campaign against ISIS-K inside its own jurisdiction."""

    intensity: Probability = Field(0.0, description="Target crackdown intensity [0, 1].")
    buildup: Probability = Field(
        0.06,
        description="Weekly fraction of the gap between current and target intensity closed "
        "[0, 1] (per week); 0.06 reaches 80% of a new target in about 26 weeks.",
    )
    attrition: Probability = Field(
        0.02,
        description="Extra weekly fighter attrition in its jurisdiction at intensity 1 "
        "[0, 1] (fraction per week): arrests and raids on cells, not plot interdictions.",
    )
    coverage_boost: Float = Field(
        1.0,
        ge=0.0,
        le=20.0,
        description="Relative increase of its collection coverage in its own jurisdiction at "
        "intensity 1 (ratio, 0-20; coverage is capped at 1). With `interdiction.crackdown_boost` "
        "(reach) this is how a crackdown stops plots: through intelligence and reach.",
    )


class ActorSpec(_Strict):
    """A state actor: what it sees, what it can act on, how it treats warnings and partners."""

    coverage: dict[str, Probability] = Field(
        default_factory=dict,
        description="Region -> weekly probability of detecting a plot that originates in "
        "or targets the region, before operational security [0, 1] (per week).",
    )
    reach: dict[str, Probability] = Field(
        default_factory=dict,
        description="Region -> interdiction capacity: fraction of the base interdiction "
        "hazard it can apply to a known plot originating in or targeting the region [0, 1].",
    )
    warning_receptivity: Probability = Field(
        0.5, description="Probability of acting on a trusted warning [0, 1]."
    )
    counter_intelligence: Probability = Field(
        0.5, description="Probability of noticing a partner's misuse of shared material [0, 1]."
    )
    duty_to_warn: Bool = Field(
        False,
        description="Warns other jurisdictions of plots it detects against them (true/false).",
    )
    stance: dict[str, Stance] = Field(
        default_factory=dict,
        description="Other actor -> geopolitical stance [-1 hostile, 1 aligned]; hostility "
        "amplifies this actor's exploitation of material it receives from that actor.",
    )
    crackdown: CrackdownSpec = Field(default_factory=CrackdownSpec)


class ThreatSpec(_Strict):
    """ISIS-K as a population of cells."""

    name: str = Field("ISIS-K", description="Display name.")
    home_country: str = Field(
        "afghanistan", description="Country the group is based in (for the outward-shift share)."
    )
    fighters: Int = Field(
        3000, ge=1, le=200_000, description="Initial total strength (fighters, 1-200,000)."
    )
    cells: Int = Field(
        60, ge=1, le=5000, description="Initial number of cells (count, 1-5000, <= fighters)."
    )
    initial_distribution: dict[str, Weight] = Field(
        default_factory=dict,
        description="Region -> relative weight of initial cells (0-1,000,000); empty = uniform.",
    )
    capability: Probability = Field(0.5, description="Mean initial cell capability [0, 1].")
    opsec: Probability = Field(
        0.4, description="Mean operational security: fraction of detection hazard evaded [0, 1]."
    )
    recruitment_rate: Float = Field(
        0.012,
        ge=0.0,
        le=1.0,
        description="Weekly recruits per fighter at recruitment pool 1, before crowding "
        "(per fighter per week, 0-1; at 1 an uncrowded group doubles every week).",
    )
    carrying_capacity: Float = Field(
        6000.0,
        gt=0,
        le=1_000_000,
        description="Total strength at which recruitment stops (fighters, > 0 and at most "
        "1,000,000).",
    )
    attrition_rate: Probability = Field(
        0.003, description="Baseline weekly fighter attrition [0, 1] (fraction per week)."
    )
    split_size: Int = Field(
        120,
        ge=2,
        le=100_000,
        description="A cell larger than this splits in two (fighters, 2-100,000).",
    )
    relocation_rate: Probability = Field(
        0.05,
        description="Weekly probability that a cell reconsiders its base and may move to a "
        "neighbouring region [0, 1] (per week).",
    )
    relocation_cost: Probability = Field(
        0.2,
        description="Fraction of a cell's fighters lost when it moves; it also discounts "
        "neighbouring regions against staying [0, 1].",
    )
    home_affinity: Float = Field(
        1.0,
        ge=0.0,
        le=100.0,
        description="Weight of regions in the home country as a base relative to others "
        "(ratio, 0-100): the pull of the group's core, leadership and networks.",
    )
    pressure_aversion: Probability = Field(
        0.5,
        description="Fraction of a region's appeal as a base lost at pressure 1 (crackdown "
        "or host pressure) [0, 1].",
    )
    host_attrition: Probability = Field(
        0.01,
        description="Extra weekly fighter attrition at host pressure 1 [0, 1] (fraction per week).",
    )
    plot_rate: Float = Field(
        0.25,
        ge=0.0,
        le=100.0,
        description="Plots started per week per 100 fighters at capability 1 (per week, "
        "0-100; at 100 every fighter starts a plot a week).",
    )
    target_preference: dict[str, Weight] = Field(
        default_factory=dict,
        description="Country -> strategic targeting weight (0-1,000,000); missing countries "
        "weigh 0.",
    )
    distance_decay: Probability = Field(
        0.6, description="Targeting weight multiplier per network hop from origin [0, 1]."
    )
    displacement: Probability = Field(
        0.7,
        description="Fraction of home-country targeting displaced abroad at home crackdown "
        "intensity 1 [0, 1].",
    )
    plot_lifetime_domestic: Float = Field(
        17.0,
        ge=1.0,
        le=520.0,
        description="Mean weeks from the start of a plot against its own country to the "
        "attack, if not interdicted (weeks, 1-520); speculative: shorter than external plots.",
    )
    plot_lifetime_external: Float = Field(
        39.0,
        ge=1.0,
        le=520.0,
        description="Mean weeks from the start of a plot abroad to the attack (weeks, 1-520); "
        "Kaplan (2010, 2012): about 9 months for US jihadi plots.",
    )
    plot_lifetime_shape: Int = Field(
        2,
        ge=1,
        le=20,
        description="Erlang shape of plot lifetimes (1-20; 1 = exponential); 2 with mean 9 months "
        "puts 95% of lifetimes between 1.1 and 25 months, as Kaplan reports.",
    )
    propaganda_boost: Float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description="Max relative recruitment boost from recent successful attacks (ratio, 0-10).",
    )
    propaganda_memory: Probability = Field(
        0.9, description="Weekly retention of the propaganda effect of past attacks [0, 1]."
    )
    fighters_lost_per_interdiction: Float = Field(
        3.0,
        ge=0.0,
        le=1000.0,
        description="Fighters the owning cell loses when a plot is interdicted (fighters, "
        "0-1000, rounded).",
    )
    disruption_weeks: Int = Field(
        4,
        ge=0,
        le=520,
        description="Mean weeks a cell takes to recover its plotting after an interdiction "
        "(weeks, 0-520); each interdiction cuts its plot rate by a factor e, the cut fading by "
        "1/disruption_weeks a week; 0 = no disruption.",
    )
    learning: Probability = Field(
        0.02, description="Capability gained by a cell per successful attack [0, 1]."
    )


class SeveritySpec(_Strict):
    """Fatalities of a successful attack: a capped discrete power law."""

    exponent: Float = Field(
        2.2,
        gt=1.0,
        le=5.0,
        description="Power-law exponent alpha of P(x) ~ x^-alpha, in (1, 5] (Clauset et al. "
        "2007: 2-2.5).",
    )
    minimum: Int = Field(
        1,
        ge=1,
        le=100_000,
        description="Smallest fatality count of a successful attack (fatalities, 1-100,000, "
        "<= cap).",
    )
    cap: Int = Field(
        2000,
        ge=1,
        le=100_000,
        description="Largest fatality count (fatalities, 1-100,000, >= minimum).",
    )
    mass_casualty_threshold: Int = Field(
        25,
        ge=1,
        le=100_000,
        description="Fatalities at or above which an attack is mass-casualty (1-100,000, <= cap).",
    )


class SharingSpec(_Strict):
    """Who shares ISIS-K intelligence with whom, and how sanitised it is."""

    policy: dict[str, dict[str, Probability]] = Field(
        default_factory=dict,
        description="[from][to] probability that a relevant detection is shared, before "
        "trust throttling [0, 1]; missing pairs are 0.",
    )
    compartmentalisation: Probability = Field(
        0.0,
        description="c in [0, 1]: share of material sanitised to assessments; lowers its "
        "value by c x sanitisation_loss and its exploitability by (1 - c).",
    )
    sanitisation_loss: Probability = Field(
        0.5, description="Fraction of interdiction value lost by fully sanitised material [0, 1]."
    )
    duty_to_warn: Bool = Field(
        True,
        description="Master switch for duty-to-warn messages (true/false; per-actor flag also "
        "needed).",
    )
    warning_quality: Probability = Field(
        0.5,
        description="Interdiction value of a heeded warning relative to own detection [0, 1].",
    )
    trust_sensitivity: Float = Field(
        1.0,
        gt=0.0,
        le=10.0,
        description="Exponent k of the trust throttle f(trust) = trust^k (dimensionless, (0, 10]).",
    )


class TrustSpec(_Strict):
    """Beta-reputation trust between actors (Josang & Ismail 2002)."""

    initial: dict[str, dict[str, Probability]] = Field(
        default_factory=dict,
        description="[truster][trustee] prior expected trust (base rate) [0, 1].",
    )
    default: Probability = Field(0.3, description="Prior trust for pairs not listed [0, 1].")
    forgetting: Probability = Field(
        0.97, description="Weekly retention of past evidence lambda [0, 1] (per week)."
    )
    bad_weight: Float = Field(
        3.0,
        ge=1.0,
        le=100.0,
        description="Weight of a bad experience relative to a good one (ratio, 1-100).",
    )
    prior_weight: Float = Field(
        2.0,
        gt=0.0,
        le=1000.0,
        description="Evidence weight W of the prior, in (0, 1000] (Josang: 2).",
    )


class CounterIntelligenceSpec(_Strict):
    """What misuse of shared material costs the sender, and leakage to the threat."""

    leakage: dict[str, Probability] = Field(
        default_factory=dict,
        description="Receiver -> probability a received item leaks to ISIS-K, before "
        "compartmentalisation [0, 1].",
    )
    coverage_damage: Probability = Field(
        0.02, description="Loss of the sender's collection coverage per misuse event [0, 1]."
    )
    coverage_recovery: Probability = Field(
        0.02,
        description="Weekly recovery of lost coverage (fraction of the gap per week) [0, 1].",
    )
    rivalry_gain: Float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="Exploitation multiplier per unit of hostile stance (ratio, 0-10).",
    )
    tipoff_effect: Probability = Field(
        0.5, description="Fraction of interdiction hazard a tipped-off plot evades [0, 1]."
    )
    tipoff_opsec_gain: Probability = Field(
        0.05, description="Operational security a tipped-off cell gains [0, 1]."
    )


class InterdictionSpec(_Strict):
    """How fast a known plot is stopped by an actor with reach."""

    hazard: Probability = Field(
        0.35,
        description="Weekly interdiction hazard h of a plot fully known to an actor with full "
        "reach [0, 1] (per week); Kaplan: P(interdict) = h / (h + alpha).",
    )
    crackdown_boost: Float = Field(
        1.0,
        ge=0.0,
        le=20.0,
        description="Relative increase of an actor's reach at home at crackdown 1 (ratio, "
        "0-20; reach is capped at 1).",
    )


class Intervention(_Strict):
    """A time-bounded change: dotted config paths set between two dates."""

    name: str = Field(description="Label shown in reports.")
    start: Date = Field(description="First date the change applies (ISO date).")
    end: Date | None = Field(None, description="Date the change lapses (exclusive) or null.")
    set: dict[str, Any] = Field(description="Dotted path -> value, e.g. actors.taliban.crackdown.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


# Paths an intervention may not change mid-run (structure, not behaviour).
FROZEN_PATHS = (
    "run",
    "interventions",
    "name",
    "description",
    "threat.fighters",
    "threat.cells",
    "threat.initial_distribution",
    "threat.name",
    "threat.home_country",
)
FROZEN_REGION_FIELDS = ("country", "jurisdiction", "neighbours", "position")


class ScenarioConfig(_Strict):
    """A complete, validated scenario."""

    name: PlainName = Field(description=f"Scenario id, used in output paths: {NAME_RULE}.")
    description: str = Field("", description="One paragraph for reports.")
    run: RunSettings = Field(default_factory=RunSettings)
    regions: dict[str, RegionSpec] = Field(description="Region id -> region.")
    actors: dict[str, ActorSpec] = Field(description="Actor id -> state actor.")
    threat: ThreatSpec = Field(default_factory=ThreatSpec)
    severity: SeveritySpec = Field(default_factory=SeveritySpec)
    sharing: SharingSpec = Field(default_factory=SharingSpec)
    trust: TrustSpec = Field(default_factory=TrustSpec)
    exploitation: dict[str, dict[str, Probability]] = Field(
        default_factory=dict,
        description="[receiver][sender] propensity to misuse received material against the "
        "sender, before compartmentalisation [0, 1]; missing pairs are 0.",
    )
    counterintelligence: CounterIntelligenceSpec = Field(default_factory=CounterIntelligenceSpec)
    interdiction: InterdictionSpec = Field(default_factory=InterdictionSpec)
    interventions: list[Intervention] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        actors = set(self.actors)
        regions = set(self.regions)
        countries = {r.country for r in self.regions.values()}
        for kind, ids in (("actor", actors), ("region", regions), ("country", countries)):
            for name in sorted(ids):
                # Output columns are named <outcome>__<id>[__<id>]: "__" would be ambiguous.
                if "__" in name or not name or name.startswith("_"):
                    raise ValueError(
                        f"{kind} id {_clip(repr(name))}: ids may not be empty, start with "
                        "'_' or contain '__' (output columns use '__' as a separator)"
                    )

        def need(kind: str, value: str, allowed: set[str], path: str) -> None:
            if value not in allowed:
                raise ValueError(
                    f"{_clip(path)}: unknown {kind} {_clip(repr(value))}; "
                    f"allowed: {_listing(sorted(allowed))}"
                )

        if not actors:
            raise ValueError("actors: at least one actor is required")
        if len(regions) < 2:
            raise ValueError("regions: at least two regions are required")
        for rid, region in self.regions.items():
            if region.jurisdiction is not None:
                need("actor", region.jurisdiction, actors, f"regions.{rid}.jurisdiction")
            for n in region.neighbours:
                need("region", n, regions, f"regions.{rid}.neighbours")
                if n == rid:
                    raise ValueError(
                        f"regions.{_clip(rid)}.neighbours: a region cannot neighbour itself"
                    )
        for aid, actor in self.actors.items():
            for r in actor.coverage:
                need("region", r, regions, f"actors.{aid}.coverage")
            for r in actor.reach:
                need("region", r, regions, f"actors.{aid}.reach")
            for other in actor.stance:
                need("actor", other, actors, f"actors.{aid}.stance")
        for section, matrix in (
            ("sharing.policy", self.sharing.policy),
            ("trust.initial", self.trust.initial),
            ("exploitation", self.exploitation),
        ):
            for a, row in matrix.items():
                need("actor", a, actors, section)
                for b in row:
                    need("actor", b, actors, f"{section}.{a}")
                    if a == b:
                        raise ValueError(
                            f"{section}.{_clip(a)}.{_clip(b)}: an actor cannot pair with itself"
                        )
        for a in self.counterintelligence.leakage:
            need("actor", a, actors, "counterintelligence.leakage")
        for r in self.threat.initial_distribution:
            need("region", r, regions, "threat.initial_distribution")
        if self.threat.initial_distribution and sum(self.threat.initial_distribution.values()) <= 0:
            raise ValueError("threat.initial_distribution: weights must not all be 0")
        need("country", self.threat.home_country, countries, "threat.home_country")
        for c in self.threat.target_preference:
            need("country", c, countries, "threat.target_preference")
        if not any(self.threat.target_preference.get(c, 0) > 0 for c in countries):
            raise ValueError("threat.target_preference: at least one country needs weight > 0")
        sev = self.severity
        if sev.cap < sev.minimum:
            raise ValueError(
                f"severity.cap = {sev.cap}: must be >= severity.minimum ({sev.minimum})"
            )
        if sev.mass_casualty_threshold > sev.cap:
            raise ValueError(
                f"severity.mass_casualty_threshold = {sev.mass_casualty_threshold}: must be "
                f"<= severity.cap ({sev.cap}), or no attack could be mass-casualty"
            )
        neighbours = {rid: list(region.neighbours) for rid, region in self.regions.items()}
        parts = components(neighbours)
        if len(parts) > 1:
            shown = " | ".join(_listing(sorted(part)) for part in parts)
            raise ValueError(
                "regions.*.neighbours: the region network is disconnected: " + _clip(shown, 500)
            )
        for i, iv in enumerate(self.interventions):
            for path in iv.set:
                _check_intervention_path(path, f"interventions.{i}.set")
            self._check_intervention_values(i, iv)
        if self.threat.cells > self.threat.fighters:
            raise ValueError(
                f"threat.cells: {self.threat.cells} cells need at least as many fighters "
                f"(threat.fighters = {self.threat.fighters})"
            )
        return self

    def _check_intervention_values(self, index: int, intervention: Intervention) -> None:
        """The config with an intervention applied must itself be valid."""
        raw = self.model_dump(mode="python", exclude={"interventions"})
        for path, value in intervention.set.items():
            set_dotted(raw, path, value)
        try:
            changed = ScenarioConfig.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = _loc(first["loc"])
            msg = first["msg"].removeprefix("Value error, ")
            value = first.get("input")
            shown = "" if isinstance(value, dict) else f" = {_shown(value)}"
            raise ValueError(
                f"interventions.{index}.set: with {_clip(repr(intervention.name))} applied, "
                f"{loc}{shown}: {msg}"
            ) from None
        structure = [
            (list(self.actors), list(changed.actors), "the set of actors"),
            (list(self.regions), list(changed.regions), "the set of regions"),
        ]
        structure += [
            (getattr(self.regions[r], f), getattr(changed.regions[r], f), f"regions.{r}.{f}")
            for r in self.regions
            for f in FROZEN_REGION_FIELDS
        ]
        for before, after, what in structure:
            if before != after:
                raise ValueError(
                    f"interventions.{index}.set: {_clip(repr(intervention.name))} would change "
                    f"{what}, which is structural and cannot change during a run"
                )

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of this config (identifies a resolved config)."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()

    def date_of(self, step: int) -> dt.date:
        """Calendar date of a (possibly negative, spin-up) step."""
        return self.run.start + dt.timedelta(weeks=step)

    def step_of(self, date: dt.date) -> int:
        """First step whose week starts on or after ``date``."""
        days = (date - self.run.start).days
        return -((-days) // 7)


def _check_intervention_path(path: str, where: str) -> None:
    parts = path.split(".")
    shown = _clip(repr(path))
    if any(path == p or path.startswith(p + ".") for p in FROZEN_PATHS):
        raise ValueError(f"{where}: {shown} is structural and cannot change during a run")
    if parts[0] == "regions" and len(parts) >= 3 and parts[2] in FROZEN_REGION_FIELDS:
        raise ValueError(f"{where}: {shown} is structural and cannot change during a run")
    if not path_exists(ScenarioConfig, parts):
        raise ValueError(f"{where}: {shown} is not a config path; {_unknown_key_hint(parts)}")


# --------------------------------------------------------------------------------------
# Dotted paths
# --------------------------------------------------------------------------------------


_NOWHERE = object()
_INDEX = re.compile(r"[0-9]{1,6}")  # a list position in a dotted path


def _annotation_at(model: type[BaseModel], parts: list[str]) -> Any:
    """Return the type a dotted path leads to in the schema, or ``_NOWHERE``."""
    import typing

    annotation: Any = model
    for part in parts:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
            origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return _NOWHERE
            annotation = field.annotation
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        elif origin is list and _INDEX.fullmatch(part):
            annotation = typing.get_args(annotation)[0]
        else:
            return _NOWHERE
    return annotation


def path_exists(model: type[BaseModel], parts: list[str]) -> bool:
    """Whether a dotted path names a field of the schema (dict keys may be anything)."""
    return _annotation_at(model, parts) is not _NOWHERE


def is_integer_path(parts: list[str]) -> bool:
    """Whether the leaf at a dotted path is an integer field (sweeps round such values)."""
    annotation = _annotation_at(ScenarioConfig, parts)
    return annotation is int


def allowed_keys(parts: list[str]) -> list[str]:
    """Keys the schema allows under the section at ``parts`` (empty if it is not a section)."""
    annotation = _annotation_at(ScenarioConfig, parts)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unknown_key_hint(parts: list[str]) -> str:
    """Say which keys are allowed in the deepest known section above an unknown key."""
    for depth in range(len(parts) - 1, -1, -1):
        if path_exists(ScenarioConfig, parts[:depth]):
            keys = allowed_keys(parts[:depth])
            if keys:
                where = ".".join(parts[:depth]) or "the top level"
                return f"allowed under {where}: {', '.join(keys)}"
            break
    return "run `scenarios schema` for the allowed keys"


def set_dotted(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data[a][b][c] = value`` for ``path = 'a.b.c'``, creating dicts on the way.

    A list is indexed by one of its positions; any other node on the way that is not a
    mapping (a scalar, null) is replaced by one, and validation then judges the result.
    A path that names a key inside a list, or a position past its end, is a ConfigError.
    """
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not _INDEX.fullmatch(part) or int(part) >= len(node):
                above = _clip(".".join(parts[:depth]))
                positions = f"0 to {len(node) - 1}" if node else "it is empty"
                raise ConfigError(
                    f"{above} is a list, so {_clip(repr(part))} must be one of its positions "
                    f"({positions})"
                )
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
            continue
        if last:
            node[part] = value
        else:
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
            node = node[part]


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from ``--set``; the value is read as YAML (numbers, bools...).

    The value gets the checks of every YAML the tool reads (see ``read_yaml``).
    """
    if "=" not in text:
        raise ConfigError(
            f"--set {_clip(repr(text))}: expected KEY=VALUE, e.g. sharing.compartmentalisation=0.5"
        )
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not p for p in key.split(".")):
        raise ConfigError(
            f"--set {_clip(repr(text))}: the key must be a dotted path such as trust.forgetting"
        )
    try:
        value = _parse_yaml(raw, root=key)
    except _RefusedYamlError as exc:
        raise ConfigError(f"--set {exc}", path=key) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"--set {_clip(key)}={_clip(repr(raw))}: value is not valid YAML "
            f"({_yaml_problem(exc)})",
            path=key,
        ) from None
    return key, value


def apply_overrides(data: dict[str, Any], overrides: list[tuple[str, Any]]) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted overrides applied; unknown paths are errors."""
    result = _unshared(data)
    seen: dict[str, Any] = {}
    for key, value in overrides:
        parts = key.split(".")
        where = f"--set {_clip(key)}={_shown(value)}"
        if key in seen:
            raise ConfigError(
                f"{where}: {_clip(key)} is given twice (also ={_shown(seen[key])}); give each "
                "key once (--steps, --seed and -n set run.steps, run.seed and "
                "run.replications)",
                path=key,
            )
        seen[key] = value
        if not path_exists(ScenarioConfig, parts):
            raise ConfigError(
                f"{where}: {_clip(repr(key))} is not a config path; {_unknown_key_hint(parts)}",
                path=key,
            )
        try:
            set_dotted(result, key, _unshared(value))
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}", path=key) from None
    return result


# --------------------------------------------------------------------------------------
# Reading YAML
# --------------------------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_KINDS = {
    _TAG + "int": "integer",
    _TAG + "float": "number",
    _TAG + "bool": "boolean",
    _TAG + "timestamp": "date",
    _TAG + "null": "null",
    _TAG + "str": "string",
    _TAG + "binary": "binary value",
}


class _RefusedYamlError(Exception):
    """A YAML text the tool will not read; the message says what, where and why."""


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _at(path: str) -> str:
    return f"{_clip(path)}: " if path else ""


def _unshared(value: Any) -> Any:
    """A copy of nested mappings and lists in which no two places share an object."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_unshared(v) for v in value)
    return value


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class _Loader(yaml.SafeLoader):
    """PyYAML's SafeLoader, with the composed document checked before it is built.

    Composing is cheap even for an alias bomb: an alias is the node it names, shared. The
    node graph is walked once, and refused (``_RefusedYamlError``) if a mapping repeats a key
    (merge keys ``<<`` excepted: explicit keys override merged ones), a scalar does not
    construct (a 30 February, a 5000-digit integer, ``!!bool maybe``), a number is not
    finite (``.inf``, ``.nan``, ``1.0e400``), an alias refers to a node that contains it,
    or the document with every alias expanded has more than ``MAX_YAML_NODES`` nodes or
    ``MAX_YAML_DEPTH`` levels. The data built is a tree: aliased mappings and lists are
    copied, so that an override of one place cannot change another.
    """

    root = ""  # dotted path of the document, for messages (the key of a --set value)
    composed = 0  # nodes composed so far (aliases not expanded)

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Stop composing early a document of too many nodes even without aliases."""
        self.composed += 1
        if self.composed > MAX_YAML_NODES:
            mark = self.peek_event().start_mark
            raise _RefusedYamlError(
                f"{_at(self.root)}the document has more than {MAX_YAML_NODES:,} nodes "
                f"(at {_where(mark)})"
            )
        return super().compose_node(parent, index)

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        self._check(node)
        try:
            data = self.construct_document(node)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise _RefusedYamlError(f"{_at(self.root)}cannot build the document: {exc}") from None
        return _unshared(data)

    def _check(self, root: yaml.Node) -> None:
        done: dict[int, tuple[int, int]] = {}  # node -> (nodes once expanded, depth)
        inside: set[int] = set()  # mappings and lists being walked: the current ancestors
        stack: list[tuple[yaml.Node, str, bool]] = [(root, self.root, False)]
        while stack:
            node, path, leaving = stack.pop()
            if leaving:
                inside.discard(id(node))
                children = _children(node)
                size = 1 + sum(done[id(c)][0] for c in children)
                depth = 1 + max((done[id(c)][1] for c in children), default=0)
                if size > MAX_YAML_NODES:
                    raise _RefusedYamlError(
                        f"{_at(path)}this value has more than {MAX_YAML_NODES:,} nodes, "
                        f"counting every alias as a full copy of what it names "
                        f"({_where(node.start_mark)}); documents are limited so that a few "
                        "aliases of aliases cannot stand for billions of values"
                    )
                if depth > MAX_YAML_DEPTH:
                    raise _RefusedYamlError(
                        f"{_at(path)}nested more than {MAX_YAML_DEPTH} levels deep "
                        f"({_where(node.start_mark)})"
                    )
                done[id(node)] = (size, depth)
                continue
            if id(node) in done:
                continue
            if id(node) in inside:
                raise _RefusedYamlError(
                    f"{_at(path)}an alias refers to the mapping or list anchored at "
                    f"{_where(node.start_mark)}, which contains it; recursive structures are "
                    "not allowed"
                )
            if isinstance(node, yaml.ScalarNode):
                self._scalar(node, path)
                done[id(node)] = (1, 1)
                continue
            inside.add(id(node))
            stack.append((node, path, True))
            if isinstance(node, yaml.MappingNode):
                first: dict[Any, Any] = {}
                for key_node, value_node in node.value:
                    label = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                    label = _clip(str(label), 50)
                    child = f"{path}.{label}" if path else label
                    if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _TAG + "merge":
                        key = self._scalar(key_node, child)
                        if key in first:
                            raise _RefusedYamlError(
                                f"{_at(path)}duplicate key {_clip(repr(key), 50)} at "
                                f"{_where(key_node.start_mark)} (first at "
                                f"{_where(first[key])}); a key may appear only once in a "
                                "mapping"
                            )
                        first[key] = key_node.start_mark
                    stack.append((key_node, child, False))
                    stack.append((value_node, child, False))
            else:
                for i, item in enumerate(node.value):
                    stack.append((item, f"{path}.{i}" if path else str(i), False))

    def _scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        """The value of a scalar node (cached for construction); refused if bad."""
        if node.tag in (_TAG + "merge", _TAG + "value"):  # `<<` and `=`: not values
            return None
        try:
            value = self.construct_object(node)
        except Exception as exc:  # any scalar that does not construct is bad input
            kind = _KINDS.get(node.tag, f"value for tag {node.tag}")
            problem = getattr(exc, "problem", None) or str(exc)
            raise _RefusedYamlError(
                f"{_at(path)}{_shown(node.value)} ({_where(node.start_mark)}) is not a valid "
                f"{kind}: {_clip(' '.join(problem.split()))}"
            ) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise _RefusedYamlError(
                f"{_clip(path) or 'value'} = {_clip(node.value, 50)} "
                f"({_where(node.start_mark)}): numbers must be finite, not .inf or .nan"
            )
        return value


def _parse_yaml(text: str, root: str = "") -> Any:
    """One YAML document, checked by ``_Loader``; raises _RefusedYamlError or yaml.YAMLError."""
    if len(text) > MAX_YAML_BYTES:
        raise _RefusedYamlError(
            f"{_at(root)}the text is longer than 1 MiB ({MAX_YAML_BYTES:,} bytes)"
        )
    loader = _Loader(text)
    loader.root = root
    try:
        return loader.get_single_data()
    except RecursionError:  # PyYAML composes nested nodes recursively
        raise _RefusedYamlError(
            f"{_at(root)}nested more than {MAX_YAML_DEPTH} levels deep"
        ) from None
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what of a YAML syntax error, on one line."""
    mark = getattr(exc, "problem_mark", None)
    where = f"at {_where(mark)}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return _clip(where + " ".join(str(problem).split()), 500)


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(mode: int, size: int, kind: str) -> None:
    """Refuse anything but a regular file of at most ``MAX_YAML_BYTES``."""
    if not stat.S_ISREG(mode):
        what = next((name for test, name in _FILE_TYPES if test(mode)), "a special file")
        raise ConfigError(
            f"cannot read {kind}: it is {what}, not a regular file (only regular files of at "
            "most 1 MiB are read)"
        )
    if size > MAX_YAML_BYTES:
        raise ConfigError(
            f"{kind} file is too large ({size:,} bytes): only files of at most 1 MiB "
            f"({MAX_YAML_BYTES:,} bytes) are read"
        )


def _os_problem(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def _read_text(path: Path, kind: str) -> str:
    """The UTF-8 text of a regular file of at most ``MAX_YAML_BYTES``; ConfigError otherwise.

    Never blocks on a named pipe and never reads a device: the path is checked before it
    is opened (without blocking) and the open file again before it is read, and no more
    than the limit is read even from a file that grows.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"{kind} file not found: {_clip(str(path))}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {kind}: {_os_problem(exc)}") from None
    _check_regular(info.st_mode, info.st_size, kind)
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
    except OSError as exc:
        raise ConfigError(f"cannot read {kind}: {_os_problem(exc)}") from None
    try:
        info = os.fstat(fd)
        _check_regular(info.st_mode, info.st_size, kind)
        data = b""
        while len(data) <= MAX_YAML_BYTES:
            chunk = os.read(fd, MAX_YAML_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise ConfigError(f"cannot read {kind}: {_os_problem(exc)}") from None
    finally:
        os.close(fd)
    _check_regular(stat.S_IFREG, len(data), kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"cannot read {kind}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def read_yaml(path: Path, kind: str = "config") -> dict[str, Any]:
    """A YAML file's top-level mapping; ConfigError (with line and column) otherwise.

    Every YAML file the tool reads comes through here: only a regular file of at most
    ``MAX_YAML_BYTES``, no duplicate keys, finite numbers, and aliases limited to
    ``MAX_YAML_NODES`` nodes once expanded (see ``_Loader``).
    """
    source = str(path)
    try:
        text = _read_text(Path(path), kind)
    except ConfigError as exc:
        raise ConfigError(str(exc), source=source) from None
    try:
        data = _parse_yaml(text)
    except _RefusedYamlError as exc:
        raise ConfigError(str(exc), source=source) from None
    except yaml.YAMLError as exc:
        problem = _yaml_problem(exc)
        joint = " " if problem.startswith("at ") else ": "
        raise ConfigError(f"malformed YAML{joint}{problem}", source=source) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"top level must be a mapping of sections, got {type(data).__name__}",
            source=source,
        )
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base`` recursively; lists and scalars are replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_raw(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a config file and resolve its ``extends:`` chain into one mapping."""
    path = Path(path)
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"cannot read config: {_os_problem(exc)}", source=str(path)) from None
    if resolved in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, resolved))
        raise ConfigError(f"extends: circular inheritance: {cycle}", source=str(path))
    data = read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(
            f"extends: {_shown(parent)} must be a file path relative to this file",
            source=str(path),
        )
    parent_path = resolved.parent / parent
    shown = _clip(repr(parent))
    try:
        os.stat(parent_path)
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(
            f"extends: {shown}: file not found (looked for {_clip(str(parent_path))})",
            source=str(path),
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"extends: {shown}: cannot read it ({_os_problem(exc)})", source=str(path)
        ) from None
    base = load_raw(parent_path, (*_chain, resolved))
    return deep_merge(base, data)


def load_named_scenario(spec_path: Path, scenario: str) -> dict[str, Any]:
    """The raw scenario config a calibration or optimisation file names (relative to it).

    ConfigError naming the file and its ``scenario`` key if it cannot be loaded.
    """
    try:
        return load_raw((spec_path.parent / scenario).resolve())
    except ConfigError as exc:
        raise ConfigError(f"scenario: {exc}", source=str(spec_path)) from None


def validate(data: dict[str, Any], source: str | None = None) -> ScenarioConfig:
    """Validate a raw mapping into a config, converting pydantic errors to ConfigError."""
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, data), source=source) from None


def load_config(
    path: str | Path, overrides: list[str] | list[tuple[str, Any]] | None = None
) -> ScenarioConfig:
    """Load, inherit, override and validate a scenario config."""
    raw = load_raw(path)
    pairs = [parse_override(o) if isinstance(o, str) else o for o in overrides or []]
    raw = apply_overrides(raw, pairs)
    return validate(raw, source=str(path))


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic error location as a dotted path, shortened."""
    return _clip(".".join(_clip(str(p), 100) for p in loc), 300)


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    """One readable paragraph per error: key path, offending value, what is allowed."""
    errors = exc.errors(include_url=False)
    lines = []
    for err in errors[:MAX_ERRORS]:
        loc = _loc(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            hint = _unknown_key_hint([str(p) for p in err["loc"]])
            lines.append(f"{loc}: unknown key; {hint}")
            continue
        if err["type"] == "missing":
            lines.append(f"{loc}: required key is missing")
            continue
        if err["type"] == "value_error" and not loc:
            lines.append(msg.removeprefix("Value error, "))
            continue
        shown = _shown(err.get("input"))
        allowed = msg.removeprefix("Value error, ")
        lines.append(f"{loc or '(top level)'} = {shown}: {allowed}")
    if len(errors) > MAX_ERRORS:
        lines.append(f"and {len(errors) - MAX_ERRORS} more errors")
    return "; ".join(lines)


def validate_spec[M: BaseModel](model: type[M], raw: dict[str, Any], source: str) -> M:
    """Validate an experiment or sweep file: ConfigError naming key path, value and rule."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = _loc(err["loc"]) or "(top level)"
        value = err.get("input")
        shown = "" if isinstance(value, dict) else f" = {_shown(value)}"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            shown, msg = "", "unknown key; allowed: " + ", ".join(model.model_fields)
        elif err["type"] == "missing":
            shown, msg = "", "required key is missing"
        raise ConfigError(f"{loc}{shown}: {msg}", source=source) from None


def json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario config (what `scenarios schema` prints)."""
    return ScenarioConfig.model_json_schema()
