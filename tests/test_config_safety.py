"""Bad input is refused by construction, as a class: ConfigError naming path, value and rule.

Numbers are finite and bounded, and booleans and numbers do not stand in for each other.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from scenarios.config import (
    ConfigError,
    apply_overrides,
    json_schema,
    load_config,
    load_raw,
    validate,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
BASELINE = CONFIGS / "baseline.yaml"
BASELINE_RAW = load_raw(BASELINE)


def child(folder: Path, body: str, name: str = "child.yaml") -> Path:
    """A config extending the shipped baseline, plus ``body`` (dedented)."""
    path = folder / name
    text = f"extends: {BASELINE}\nname: child\n" + textwrap.dedent(body).lstrip()
    path.write_text(text, encoding="utf-8")
    return path


def refused(*fragments: str, path: Path | None = None, overrides: list[str] | None = None) -> str:
    """Load ``path`` (default the baseline) with ``overrides``; the ConfigError's message."""
    with pytest.raises(ConfigError) as info:
        load_config(path or BASELINE, overrides or [])
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert "\n" not in message  # one paragraph
    return message


# --------------------------------------------------------------------------------------
# 1. Every number is finite and bounded
# --------------------------------------------------------------------------------------

NON_FINITE = [".inf", "-.inf", ".nan", "1.0e400", '"inf"', '"nan"']
NUMBER_PATHS = [
    "threat.plot_rate",
    "threat.recruitment_rate",
    "threat.carrying_capacity",
    "threat.plot_lifetime_external",
    "sharing.policy.us.russia",  # a dict value
    "threat.initial_distribution.kabul",  # a dict value without a probability bound
    "threat.target_preference.russia",
    "actors.us.stance.russia",
    "severity.exponent",
]


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("path", NUMBER_PATHS)
def test_non_finite_numbers_are_refused_in_set(path: str, value: str) -> None:
    refused(path, "finite", overrides=[f"{path}={value}"])


def test_non_finite_numbers_are_refused_in_positions() -> None:
    refused("regions.kabul.position", "finite", overrides=["regions.kabul.position=[0.5, .nan]"])


def test_non_finite_numbers_are_refused_from_python() -> None:
    raw = apply_overrides(BASELINE_RAW, [("threat.plot_rate", float("inf"))])
    with pytest.raises(ConfigError, match=r"threat\.plot_rate"):
        validate(raw)
    raw = apply_overrides(BASELINE_RAW, [("sharing.policy.us.russia", float("nan"))])
    with pytest.raises(ConfigError, match=r"sharing\.policy\.us\.russia"):
        validate(raw)


# Path -> (documented upper bound, a value above it). Rates and ratios that had none.
UPPER_BOUNDS: dict[str, tuple[float, float]] = {
    "threat.plot_rate": (100, 100.5),
    "threat.recruitment_rate": (1, 1.01),
    "threat.carrying_capacity": (1_000_000, 1_000_001),
    "threat.propaganda_boost": (10, 10.5),
    "threat.fighters_lost_per_interdiction": (1000, 1001),
    "threat.initial_distribution.kabul": (1_000_000, 1e7),
    "threat.target_preference.russia": (1_000_000, 1e7),
    "counterintelligence.rivalry_gain": (10, 10.5),
    "interdiction.crackdown_boost": (20, 20.5),
    "actors.taliban.crackdown.coverage_boost": (20, 20.5),
    "threat.home_affinity": (100, 100.5),
    "severity.cap": (100_000, 100_001),
    "run.seed": (2**63 - 1, 2**63),
}


@pytest.mark.parametrize("path", list(UPPER_BOUNDS))
def test_rates_and_ratios_have_an_upper_bound(path: str) -> None:
    bound, above = UPPER_BOUNDS[path]
    message = refused(path, "less than or equal to", overrides=[f"{path}={above!r}"])
    assert f"{bound:,}".replace(",", "") in message.replace(",", "")
    load_config(BASELINE, [f"{path}={bound!r}"])  # the bound itself is allowed


def _numeric_schemas(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every sub-schema of type number or integer in a JSON schema, with where it is."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") in ("number", "integer"):
            found.append((where, node))
        for key, value in node.items():
            found += _numeric_schemas(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _numeric_schemas(value, f"{where}.{i}")
    return found


def test_every_number_in_the_schema_is_bounded_on_both_sides() -> None:
    numbers = _numeric_schemas(json_schema())
    assert len(numbers) > 50
    unbounded = [
        where
        for where, schema in numbers
        if not ({"maximum", "exclusiveMaximum"} & schema.keys())
        or not ({"minimum", "exclusiveMinimum"} & schema.keys())
    ]
    assert not unbounded, f"numbers without both bounds: {unbounded}"


def _mentions(description: str, bound: float) -> bool:
    forms = {f"{bound:g}", f"{bound:,}", str(bound)}
    if float(bound).is_integer():
        forms |= {f"{int(bound):,}", str(int(bound))}
    if bound == 2**63 - 1:
        forms.add("2^63 - 1")
    return any(form in description for form in forms)


def test_every_bound_is_stated_in_the_description() -> None:
    """`scenarios schema` prints descriptions: each names its field's range."""
    schema = json_schema()
    missing = []
    for name, definition in {**schema["$defs"], "ScenarioConfig": schema}.items():
        for field, prop in definition.get("properties", {}).items():
            numbers = _numeric_schemas(prop)
            description = prop.get("description", "")
            for _, number in numbers:
                for key in ("maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"):
                    if key in number and not _mentions(description, number[key]):
                        missing.append(f"{name}.{field} ({key} {number[key]})")
    assert not missing, f"descriptions that do not state their bound: {missing}"


def test_severity_bounds_are_consistent() -> None:
    refused("severity.minimum", "severity.cap", overrides=["severity.minimum=3000"])
    refused(
        "severity.mass_casualty_threshold",
        "5000",
        "severity.cap",
        "2000",
        overrides=["severity.mass_casualty_threshold=5000"],
    )
    config = load_config(BASELINE, ["severity.mass_casualty_threshold=2000"])
    assert config.severity.mass_casualty_threshold == config.severity.cap


# --------------------------------------------------------------------------------------
# 3. Booleans are not numbers, numbers are not booleans
# --------------------------------------------------------------------------------------

NOT_NUMBERS = [
    ("run.steps=true", "run.steps", "true", "integer"),
    ("run.replications=false", "run.replications", "false", "integer"),
    ("threat.plot_rate=true", "threat.plot_rate", "true", "number"),
    ("sharing.policy.us.russia=true", "sharing.policy.us.russia", "true", "number"),
    ("regions.kabul.position=[true, 0.5]", "regions.kabul.position.0", "true", "number"),
    ("sharing.duty_to_warn=1", "sharing.duty_to_warn", "1", "boolean"),
    ("actors.us.duty_to_warn=0", "actors.us.duty_to_warn", "0", "boolean"),
    ("actors.us.duty_to_warn='yes'", "actors.us.duty_to_warn", "yes", "boolean"),
    ("run.start=20250106", "run.start", "20250106", "date"),
    ("run.start=true", "run.start", "true", "date"),
]


@pytest.mark.parametrize(("override", "path", "value", "allowed"), NOT_NUMBERS)
def test_booleans_and_numbers_do_not_coerce(
    override: str, path: str, value: str, allowed: str
) -> None:
    refused(path, value, allowed, overrides=[override])


def test_booleans_are_refused_in_files(tmp_path: Path) -> None:
    path = child(tmp_path, "run:\n  steps: true\n")
    refused("run.steps", "true", "integer", "child.yaml", path=path)


def test_ints_dates_and_numeric_strings_still_load() -> None:
    config = load_config(
        BASELINE,
        [
            "threat.plot_rate=2",  # an int for a float field
            "threat.recruitment_rate=1e-2",  # PyYAML reads this as a string
            "run.start=2025-01-13",
            "interdiction.crackdown_boost=1",
            "sharing.duty_to_warn=false",
        ],
    )
    assert config.threat.plot_rate == 2.0
    assert config.threat.recruitment_rate == pytest.approx(0.01)
    assert str(config.run.start) == "2025-01-13"
    assert config.sharing.duty_to_warn is False
