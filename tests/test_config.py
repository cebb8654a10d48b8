"""Config schema, YAML loading, `extends:` inheritance, `--set` overrides and error messages."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.config import (
    ConfigError,
    ScenarioConfig,
    apply_overrides,
    components,
    load_config,
    load_raw,
    parse_override,
    validate,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
BASELINE = CONFIGS / "baseline.yaml"
SHIPPED = sorted(CONFIGS.glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    """Write a YAML file (dedented) and return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def child_of_baseline(folder: Path, body: str, name: str = "child.yaml") -> Path:
    """A config that extends the shipped baseline (absolute path) and adds ``body``."""
    header = f"extends: {BASELINE}\nname: child\n"
    return write(folder, name, header + textwrap.dedent(body).lstrip())


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted path -> leaf value of a nested dict/list structure."""
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = ((str(i), v) for i, v in enumerate(node))
    else:
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


# --------------------------------------------------------------------------------------
# Shipped configs, inheritance, overrides, digest
# --------------------------------------------------------------------------------------


def test_configs_are_shipped() -> None:
    assert BASELINE in SHIPPED
    assert len(SHIPPED) >= 2


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_config_validates(path: Path) -> None:
    config = load_config(path)
    assert isinstance(config, ScenarioConfig)
    assert config.name
    assert len(config.actors) >= 1
    assert len(config.regions) >= 2


def test_extends_merges_two_levels() -> None:
    baseline = load_config(BASELINE)
    trilateral = load_config(CONFIGS / "trilateral.yaml")
    child = load_config(CONFIGS / "trilateral_compartmentalised.yaml")

    # Its own values win ...
    assert child.name == "trilateral_compartmentalised"
    assert child.sharing.compartmentalisation == pytest.approx(0.8)
    assert trilateral.sharing.compartmentalisation == pytest.approx(0.0)
    # ... its parent's policy is inherited ...
    assert child.sharing.policy == trilateral.sharing.policy
    assert child.sharing.policy != baseline.sharing.policy
    assert child.sharing.policy["us"]["russia"] == pytest.approx(0.7)
    # ... and so is its grandparent's everything else.
    assert child.regions == baseline.regions
    assert child.actors == baseline.actors
    assert child.trust == baseline.trust
    assert child.sharing.sanitisation_loss == baseline.sharing.sanitisation_loss


def test_extends_merges_nested_mappings_key_by_key(tmp_path: Path) -> None:
    path = child_of_baseline(
        tmp_path,
        """
        actors:
          taliban:
            crackdown:
              intensity: 0.1
        """,
    )
    baseline = load_config(BASELINE)
    child = load_config(path)
    assert child.actors["taliban"].crackdown.intensity == pytest.approx(0.1)
    # Siblings of the overridden leaf come from the parent, not from defaults.
    assert child.actors["taliban"].crackdown.buildup == baseline.actors["taliban"].crackdown.buildup
    assert child.actors["taliban"].coverage == baseline.actors["taliban"].coverage
    assert child.actors["us"] == baseline.actors["us"]


def test_extends_is_relative_to_the_file(tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    write(tmp_path, "parent.yaml", BASELINE.read_text(encoding="utf-8"))
    child = write(sub, "child.yaml", "extends: ../parent.yaml\nname: relative\n")
    assert load_config(child).name == "relative"
    assert "extends" not in load_raw(child)


@pytest.mark.parametrize(
    ("override", "path", "value"),
    [
        ("sharing.policy.us.russia=0.8", "sharing.policy.us.russia", 0.8),  # new leaf
        ("sharing.policy.russia.taliban=0.35", "sharing.policy.russia.taliban", 0.35),
        ("trust.forgetting=0.9", "trust.forgetting", 0.9),
        ("run.steps=12", "run.steps", 12),
        ("sharing.duty_to_warn=false", "sharing.duty_to_warn", False),
        ("actors.taliban.crackdown.intensity=0.25", "actors.taliban.crackdown.intensity", 0.25),
    ],
)
def test_set_override_changes_exactly_one_leaf(override: str, path: str, value: Any) -> None:
    before = flatten(load_config(BASELINE).model_dump(mode="json"))
    after = flatten(load_config(BASELINE, [override]).model_dump(mode="json"))
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == {path}
    assert after[path] == value


def test_overrides_accept_parsed_pairs() -> None:
    assert parse_override("sharing.compartmentalisation=0.5") == (
        "sharing.compartmentalisation",
        0.5,
    )
    assert parse_override("name=a=b") == ("name", "a=b")
    config = load_config(BASELINE, [("sharing.compartmentalisation", 0.5)])
    assert config.sharing.compartmentalisation == pytest.approx(0.5)


def test_overrides_do_not_mutate_their_input() -> None:
    raw = load_raw(BASELINE)
    snapshot = flatten(raw)
    apply_overrides(raw, [("trust.forgetting", 0.5), ("sharing.policy.us.russia", 0.9)])
    assert flatten(raw) == snapshot


def test_digest_is_stable_and_tracks_values() -> None:
    digest = load_config(BASELINE).digest()
    assert len(digest) == 64
    assert load_config(BASELINE).digest() == digest
    # Setting a leaf to the value it already has is the same config.
    assert load_config(BASELINE, ["trust.forgetting=0.97"]).digest() == digest
    changed = load_config(BASELINE, ["trust.forgetting=0.96"]).digest()
    assert changed != digest
    assert load_config(BASELINE, ["trust.forgetting=0.96"]).digest() == changed
    assert load_config(BASELINE, ["run.seed=1"]).digest() != digest


def test_digest_ignores_key_order() -> None:
    raw = load_raw(BASELINE)
    shuffled = dict(reversed(list(raw.items())))
    shuffled["trust"] = dict(reversed(list(raw["trust"].items())))
    shuffled["trust"]["initial"] = dict(reversed(list(raw["trust"]["initial"].items())))
    assert validate(shuffled).digest() == validate(raw).digest()


def test_identical_files_give_identical_digests(tmp_path: Path) -> None:
    copy = write(tmp_path, "copy.yaml", BASELINE.read_text(encoding="utf-8"))
    assert load_config(copy).digest() == load_config(BASELINE).digest()


# --------------------------------------------------------------------------------------
# Bad input: ConfigError naming the key path, the value and what is allowed
# --------------------------------------------------------------------------------------

# id -> (body added to a child of the baseline, substrings the message must contain)
BAD_BODIES: dict[str, tuple[str, list[str]]] = {
    "disconnected_regions": (
        """
        regions:
          island_a: {country: west, neighbours: [island_b]}
          island_b: {country: west}
        """,
        ["regions.*.neighbours", "disconnected", "island_a, island_b", "afg_east"],
    ),
    "unknown_top_level_key": (
        "bogus: 1\n",
        ["bogus", "unknown key", "sharing", "trust"],
    ),
    "unknown_nested_key": (
        "sharing:\n  polcy: {us: {russia: 0.5}}\n",
        ["sharing.polcy", "unknown key", "policy", "compartmentalisation"],
    ),
    "unknown_key_in_a_region": (
        "regions:\n  kabul:\n    hardnening: 0.3\n",
        ["regions.kabul.hardnening", "unknown key", "hardening"],
    ),
    "wrong_type": (
        "run:\n  steps: many\n",
        ["run.steps", "many", "integer"],
    ),
    "wrong_type_for_a_section": (
        "sharing: 0.5\n",
        ["sharing", "0.5"],
    ),
    "probability_above_one": (
        "sharing:\n  policy:\n    us: {russia: 1.5}\n",
        ["sharing.policy.us.russia", "1.5", "less than or equal to 1"],
    ),
    "probability_below_zero": (
        "trust:\n  forgetting: -0.1\n",
        ["trust.forgetting", "-0.1", "greater than or equal to 0"],
    ),
    "unknown_actor_in_a_matrix": (
        "trust:\n  initial:\n    us: {china: 0.5}\n",
        ["trust.initial.us", "china", "allowed", "russia", "taliban"],
    ),
    "unknown_actor_as_matrix_row": (
        "exploitation:\n  china: {us: 0.5}\n",
        ["exploitation", "china", "allowed", "russia"],
    ),
    "unknown_region_in_coverage": (
        "actors:\n  us:\n    coverage: {mars: 0.5}\n",
        ["actors.us.coverage", "mars", "allowed", "kabul"],
    ),
    "intervention_end_before_start": (
        """
        interventions:
          - name: backwards
            start: 2025-06-02
            end: 2025-01-06
            set: {sharing.compartmentalisation: 0.5}
        """,
        ["interventions.0", "2025-01-06", "2025-06-02", "after"],
    ),
    "intervention_structural_path": (
        """
        interventions:
          - name: longer
            start: 2025-06-02
            set: {run.steps: 500}
        """,
        ["interventions.0.set", "run.steps", "structural"],
    ),
    "intervention_unknown_path": (
        """
        interventions:
          - name: typo
            start: 2025-06-02
            set: {sharing.polcy.us.russia: 0.5}
        """,
        ["interventions.0.set", "sharing.polcy.us.russia", "not a config path"],
    ),
    "intervention_adds_an_actor": (
        """
        interventions:
          - name: newcomer
            start: 2025-06-02
            set: {actors.china: {warning_receptivity: 0.5}}
        """,
        ["interventions.0.set", "newcomer", "set of actors", "structural"],
    ),
    "intervention_replaces_a_whole_region": (
        """
        interventions:
          - name: annex
            start: 2025-06-02
            set: {regions.kabul: {country: russia, jurisdiction: russia, neighbours: [russia]}}
        """,
        ["interventions.0.set", "annex", "regions.kabul.", "structural"],
    ),
    "intervention_value_out_of_range": (
        """
        interventions:
          - name: overdrive
            start: 2025-06-02
            set: {actors.taliban.crackdown.intensity: 1.5}
        """,
        [
            "interventions.0.set",
            "overdrive",
            "actors.taliban.crackdown.intensity",
            "1.5",
            "less than or equal to 1",
        ],
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES), ids=str)
def test_bad_config_raises_config_error_naming_path(tmp_path: Path, case: str) -> None:
    body, expected = BAD_BODIES[case]
    path = child_of_baseline(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert str(path.name) in message  # the message says which file
    assert "\n" not in message  # one paragraph


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("name: x\nrun:\n  steps: 10\n replications: 2\n", 4),
        ("name: x\nrun:\n  steps: 10\n  seed: : 3\n", 4),
        ("name: x\nsharing:\n  policy: {us: {russia: 0.5}\n\ntrust: {}\n", 5),
    ],
    ids=["bad_indent", "double_colon", "unclosed_brace"],
)
def test_malformed_yaml_names_the_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "malformed.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "malformed YAML" in message
    assert f"line {line}" in message
    assert "malformed.yaml" in message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found") as info:
        load_config(tmp_path / "nowhere.yaml")
    assert "nowhere.yaml" in str(info.value)


def test_missing_extends_file(tmp_path: Path) -> None:
    path = write(tmp_path, "orphan.yaml", "extends: no_such_parent.yaml\nname: orphan\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "extends" in message
    assert "no_such_parent.yaml" in message
    assert "not found" in message


def test_circular_extends(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "a.yaml")
    message = str(info.value)
    assert "extends" in message
    assert "circular" in message
    assert "a.yaml" in message
    assert "b.yaml" in message


def test_self_extends_is_circular(tmp_path: Path) -> None:
    write(tmp_path, "self.yaml", "extends: self.yaml\nname: self\n")
    with pytest.raises(ConfigError, match="circular"):
        load_config(tmp_path / "self.yaml")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("sharing.nope=1", ["sharing.nope", "not a config path", "policy"]),
        ("sharing.polcy.us.russia=0.8", ["sharing.polcy.us.russia", "not a config path"]),
        ("bogus=1", ["bogus", "not a config path", "sharing"]),
        ("run.steps.deeper=3", ["run.steps.deeper", "not a config path"]),
    ],
)
def test_set_to_a_path_that_does_not_exist(override: str, expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(BASELINE, [override])
    for fragment in expected:
        assert fragment in str(info.value)


@pytest.mark.parametrize("override", ["sharing.compartmentalisation", "", "=0.5", "a..b=1"])
def test_set_needs_key_equals_value(override: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(BASELINE, [override])
    assert "--set" in str(info.value)


def test_set_without_equals_says_what_is_expected() -> None:
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("sharing.compartmentalisation")


def test_set_value_is_validated_like_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(BASELINE, ["sharing.policy.us.russia=1.5"])
    assert "sharing.policy.us.russia" in str(info.value)
    assert "1.5" in str(info.value)


def test_set_unknown_actor_is_rejected() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(BASELINE, ["trust.initial.us.china=0.5"])
    assert "trust.initial.us" in str(info.value)
    assert "china" in str(info.value)


# --------------------------------------------------------------------------------------
# Property tests: probability bounds
# --------------------------------------------------------------------------------------

PROBABILITY_PATHS = [
    "sharing.policy.us.russia",
    "sharing.policy.taliban.russia",
    "sharing.compartmentalisation",
    "trust.initial.russia.us",
    "trust.forgetting",
    "exploitation.taliban.us",
    "actors.us.coverage.west",
    "actors.taliban.crackdown.intensity",
    "regions.kabul.hardening",
    "counterintelligence.leakage.taliban",
    "interdiction.hazard",
]
BASELINE_RAW = load_raw(BASELINE)

outside_unit_interval = st.floats(allow_nan=True, allow_infinity=True).filter(
    lambda x: not 0.0 <= x <= 1.0
)


@settings(max_examples=30, deadline=None)
@given(path=st.sampled_from(PROBABILITY_PATHS), value=outside_unit_interval)
def test_probability_outside_unit_interval_is_rejected(path: str, value: float) -> None:
    raw = apply_overrides(BASELINE_RAW, [(path, value)])
    with pytest.raises(ConfigError) as info:
        validate(raw)
    assert path in str(info.value)


@settings(max_examples=30, deadline=None)
@given(
    path=st.sampled_from(PROBABILITY_PATHS),
    value=st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)
def test_probability_inside_unit_interval_is_accepted(path: str, value: float) -> None:
    raw = apply_overrides(BASELINE_RAW, [(path, value)])
    config = validate(raw)
    leaf: Any = config.model_dump()
    for part in path.split("."):
        leaf = leaf[part]
    assert math.isclose(leaf, value) or leaf == value


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=12).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20),
        )
    )
)
def test_components_are_networkx_components(graph: tuple[int, list[tuple[int, int]]]) -> None:
    import networkx as nx

    n, edges = graph
    neighbours: dict[str, list[str]] = {f"r{i}": [] for i in range(n)}
    for a, b in edges:
        neighbours[f"r{a}"].append(f"r{b}")
    reference = nx.Graph()
    reference.add_nodes_from(neighbours)
    reference.add_edges_from((a, b) for a, others in neighbours.items() for b in others)
    expected = [set(c) for c in nx.connected_components(reference)]
    assert components(neighbours) == expected  # the same parts, in the same order
