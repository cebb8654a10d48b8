"""Bad input is refused by construction, as a class: ConfigError naming path, value and rule.

Numbers are finite and bounded, booleans and numbers do not stand in for each other,
YAML keys are unique, aliases cannot expand a small file into a huge document, and only
regular files of bounded size are read. Each class has a direct test here; the property
test in ``test_config_properties.py`` throws random input at the same code.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli

from scenarios.config import (
    ConfigError,
    apply_overrides,
    json_schema,
    load_config,
    load_raw,
    parse_override,
    read_yaml,
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


def _limit_memory() -> None:
    # A child that misbehaves (reads /dev/zero) must not take the machine's memory.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def scenarios(*args: Any, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m scenarios ARGS`` with a memory limit; returns the finished process."""
    return run_cli(*args, timeout=timeout, preexec_fn=_limit_memory)


def exits_2(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """The process exited 2 with one error paragraph containing ``fragments``, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    message = " ".join(result.stderr.split())
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
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


@pytest.mark.parametrize("value", [".inf", ".nan", "-.inf"])
def test_non_finite_numbers_are_refused_in_files(tmp_path: Path, value: str) -> None:
    path = child(tmp_path, f"threat:\n  plot_rate: {value}\n  initial_distribution: {{kabul: 1}}\n")
    refused("threat.plot_rate", value, "finite", "child.yaml", path=path)


def test_non_finite_numbers_are_refused_in_positions() -> None:
    refused("regions.kabul.position", "finite", overrides=["regions.kabul.position=[0.5, .nan]"])


def test_non_finite_numbers_are_refused_in_sweep_and_experiment_files(tmp_path: Path) -> None:
    for kind in ("sweep", "experiment"):
        path = tmp_path / f"{kind}.yaml"
        path.write_text("name: x\nparameters:\n  threat.plot_rate: {bounds: [0.5, .inf]}\n")
        with pytest.raises(ConfigError) as info:
            read_yaml(path, kind)
        message = str(info.value)
        assert "parameters.threat.plot_rate.bounds.1" in message, message
        assert "finite" in message


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


def test_huge_integers_are_refused_with_a_short_message() -> None:
    message = refused("run.seed", overrides=[f"run.seed=0x{'f' * 20_000}"])
    assert len(message) < 1000
    message = refused("run.seed", overrides=[f"run.seed={'9' * 5000}"])
    assert len(message) < 1000


# --------------------------------------------------------------------------------------
# 2. Duplicate keys
# --------------------------------------------------------------------------------------


def test_duplicate_top_level_key_is_refused(tmp_path: Path) -> None:
    path = child(tmp_path, "run:\n  steps: 10\nsharing: {}\nrun:\n  replications: 2\n")
    message = refused("duplicate key", "'run'", "line 6", "child.yaml", path=path)
    assert "line 3" in message  # where it was first defined


def test_duplicate_nested_key_is_refused(tmp_path: Path) -> None:
    path = child(tmp_path, "threat:\n  plot_rate: 1.0\n  plot_rate: 2.0\n")
    refused("duplicate key", "'plot_rate'", "line 5", path=path)


def test_keys_that_are_equal_values_are_duplicates(tmp_path: Path) -> None:
    path = child(tmp_path, "regions:\n  kabul: {}\n  'kabul': {}\n")
    refused("duplicate key", "kabul", path=path)


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    path = child(
        tmp_path,
        """
        actors:
          us: &us
            warning_receptivity: 0.9
            counter_intelligence: 0.9
          russia:
            <<: *us
            warning_receptivity: 0.3
        """,
    )
    config = load_config(path)
    assert config.actors["russia"].warning_receptivity == pytest.approx(0.3)
    assert config.actors["russia"].counter_intelligence == pytest.approx(0.9)


def test_an_override_through_an_alias_changes_one_place(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text(
        textwrap.dedent(
            """
            name: mini
            regions:
              a: {country: home, jurisdiction: x, neighbours: [b]}
              b: {country: abroad, jurisdiction: y, neighbours: [a]}
            actors:
              x: &actor {warning_receptivity: 0.9}
              y: *actor
            threat: {home_country: home, target_preference: {home: 1}}
            """
        )
    )
    config = load_config(path, ["actors.x.warning_receptivity=0.1"])
    assert config.actors["x"].warning_receptivity == pytest.approx(0.1)
    assert config.actors["y"].warning_receptivity == pytest.approx(0.9)


@pytest.mark.parametrize("kind", ["experiment", "sweep"])
def test_duplicate_keys_are_refused_in_every_yaml_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.yaml"
    path.write_text("name: a\nseed: 1\nname: b\n")
    with pytest.raises(ConfigError, match=r"duplicate key 'name'.*line 3") as info:
        read_yaml(path, kind)
    assert f"{kind}.yaml" in str(info.value)


def test_duplicate_keys_are_refused_in_set_values() -> None:
    message = refused(
        "--set",
        "sharing.policy",
        "duplicate key",
        overrides=["sharing.policy={us: {russia: 0.1}, us: {taliban: 0.2}}"],
    )
    assert "'us'" in message


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


# --------------------------------------------------------------------------------------
# 4. Aliases cannot blow a small file up; echoed values are short
# --------------------------------------------------------------------------------------


def billion_laughs(levels: int = 7) -> str:
    """A few hundred bytes that expand to 9**levels strings (4.8 million at 7 levels)."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    lines.append(f"description: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = child(tmp_path, billion_laughs())
    assert path.stat().st_size < 1000
    started = time.monotonic()
    message = refused("alias", "nodes", "100,000", "child.yaml", path=path)
    assert time.monotonic() - started < 5
    assert len(message) < 1000


def test_alias_bomb_is_refused_in_set_values() -> None:
    value = "{" + billion_laughs().strip().replace("\n", ", ") + "}"
    started = time.monotonic()
    refused("--set", "nodes", overrides=[f"description={value}"])
    assert time.monotonic() - started < 5


def test_modest_aliases_still_work(tmp_path: Path) -> None:
    path = child(
        tmp_path,
        """
        sharing:
          policy:
            us: &row {russia: 0.4, taliban: 0.4}
            russia: {us: 0.4, taliban: 0.4}
        trust:
          initial:
            us: *row
        """,
    )
    config = load_config(path)
    assert config.trust.initial["us"]["russia"] == pytest.approx(0.4)


@pytest.mark.parametrize(
    "body",
    ["interventions: &loop\n  - name: x\n    set: {a: *loop}\n", "description: &d [1, *d]\n"],
    ids=["in_a_mapping", "in_a_list"],
)
def test_recursive_alias_is_refused(tmp_path: Path, body: str) -> None:
    refused("recursive", "line 3", path=child(tmp_path, body))


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = child(tmp_path, "description: " + "[" * 5000 + "]" * 5000 + "\n")
    refused("nested", path=path)


def test_long_values_are_truncated_in_messages(tmp_path: Path) -> None:
    long = "x" * 100_000
    message = refused("run.steps", "xxxx", overrides=[f"run.steps={long}"])
    assert len(message) < 1000
    path = child(tmp_path, f"run:\n  steps: [{', '.join(['1'] * 20_000)}]\n")
    assert len(refused("run.steps", path=path)) < 1000
    message = refused("not a config path", overrides=[f"{'k' * 10_000}=1"])
    assert len(message) < 1000


def test_bad_scalars_are_yaml_errors_not_crashes(tmp_path: Path) -> None:
    refused("line 4", "day is out of range", path=child(tmp_path, "run:\n  start: 2025-02-30\n"))
    refused("--set", "run.start", overrides=["run.start=2025-02-30"])
    refused("run.seed", "line 4", path=child(tmp_path, f"run:\n  seed: {'7' * 5000}\n"))


# --------------------------------------------------------------------------------------
# 5. Only regular files, at most 1 MiB
# --------------------------------------------------------------------------------------


def test_extends_a_named_pipe_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    path = tmp_path / "child.yaml"
    path.write_text("extends: pipe.yaml\nname: child\n")
    message = exits_2(scenarios("validate", path), "pipe.yaml", "not a regular file")
    assert "named pipe" in message


def test_config_that_is_a_named_pipe_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    exits_2(scenarios("run", tmp_path / "pipe.yaml", "--out", tmp_path / "run"), "pipe.yaml")
    assert not (tmp_path / "run").exists()


def test_extends_dev_zero_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "child.yaml"
    path.write_text("extends: /dev/zero\nname: child\n")
    exits_2(scenarios("validate", path), "/dev/zero", "character device", "not a regular file")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "child.yaml"
    path.write_text("extends: .\nname: child\n")
    refused("directory", path=path)


def test_files_over_one_mib_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("name: big\ndescription: " + "x" * (1 << 20) + "\n")
    with pytest.raises(ConfigError) as info:
        read_yaml(big)
    message = str(info.value)
    assert "big.yaml" in message
    assert "1 MiB" in message
    path = tmp_path / "child.yaml"
    path.write_text("extends: big.yaml\nname: child\n")
    refused("big.yaml", "1 MiB", path=path)


def test_a_file_just_under_the_limit_is_read(tmp_path: Path) -> None:
    text = BASELINE.read_text(encoding="utf-8")
    path = tmp_path / "padded.yaml"
    path.write_text(text + "#" * ((1 << 20) - len(text.encode()) - 1) + "\n")
    assert path.stat().st_size == 1 << 20
    assert load_config(path).name == "baseline"


def test_unreadable_paths_are_config_errors(tmp_path: Path) -> None:
    for parent in ("child.yaml/below.yaml", "a\0b.yaml", "x" * 5000 + ".yaml"):
        path = tmp_path / "child.yaml"
        path.write_text(f"extends: {json.dumps(parent)}\nname: child\n")
        refused("extends", path=path)


def test_yaml_text_is_checked_in_set_values_too() -> None:
    key, value = parse_override("sharing.compartmentalisation=0.5")
    assert (key, value) == ("sharing.compartmentalisation", 0.5)
    with pytest.raises(ConfigError, match="duplicate key"):
        parse_override("sharing.policy={a: 1, a: 2}")
    with pytest.raises(ConfigError, match="finite"):
        parse_override("threat.plot_rate=.inf")


@pytest.mark.parametrize(
    "override",
    [
        "actors.a__b={}",
        "regions.x__y={country: west, neighbours: [west]}",
        "regions.x={country: we__st, neighbours: [west]}",
        "run.start=0001-01-01",
        "run.start=9999-01-04",
    ],
)
def test_ids_and_dates_the_outputs_cannot_hold_are_refused(override: str) -> None:
    """Ids with '__' break column names; dates outside 1900-2200 break the plots (exit 1)."""
    with pytest.raises(ConfigError):
        load_config(CONFIGS / "baseline.yaml", [override])


def test_a_key_set_twice_is_refused_not_silently_overwritten() -> None:
    """`--steps 10 --set run.steps=20` used to run 10 weeks without a word."""
    with pytest.raises(ConfigError, match="given twice"):
        load_config(BASELINE, ["run.steps=20", "run.steps=10"])
    # a whole section, then one of its leaves, is a deliberate refinement, not a repeat
    cfg = load_config(BASELINE, ["exploitation={}", "exploitation.russia.us=0.3"])
    assert cfg.exploitation == {"russia": {"us": 0.3}}
