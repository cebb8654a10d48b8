"""Property tests: any input either validates or raises ConfigError, and quickly.

Random config subtrees, ``--set`` values and YAML texts (numbers including inf, nan,
huge and negative ones, booleans, strings, dates, nulls, nested mappings and lists) are
fed through the same functions the command line uses. Whatever they are, the result is
a validated config or a ConfigError with a one-paragraph message of bounded length;
never another exception (which the command line would report as an internal error), and
never a long wait (the hypothesis deadline bounds every example).

The last test takes random ``--set`` values all the way through
``scenarios run configs/baseline.yaml --steps 2 --replications 1``: exit 0 with a run
directory, or 2 with one message and nothing left behind; never a traceback or a hang.
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from scenarios.config import (
    MAX_MESSAGE,
    ConfigError,
    ScenarioConfig,
    apply_overrides,
    load_config,
    load_raw,
    parse_override,
    read_yaml,
    validate,
)

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.yaml"
BASELINE_RAW = load_raw(BASELINE)
EXAMPLES = settings(
    max_examples=150,
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _paths(node: Any, prefix: str = "") -> list[str]:
    """Every dotted path in a nested mapping: sections and leaves alike."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, f"{prefix}.{key}" if prefix else str(key))
    return found


SECTION_AND_LEAF_PATHS = sorted(set(_paths(BASELINE_RAW)))
EXTRA_PATHS = [
    "run.start",
    "run.seed",
    "interventions",
    "interventions.0",
    "interventions.0.set",
    "interventions.0.name",
    "regions.kabul.position",
    "regions.kabul.neighbours.0",
    "regions.new_region",
    "actors.new_actor",
    "actors.us.stance.russia",
    "actors.us.crackdown",
    "threat.initial_distribution.mars",
    "severity.mass_casualty_threshold",
    "sharing.policy.us.us",
    "counterintelligence.leakage.taliban",
    "nope",
    "threat.nope.deeper",
    "run.steps.deeper",
]
paths = st.sampled_from(SECTION_AND_LEAF_PATHS + EXTRA_PATHS)


# Mostly the schema's real leaves (where a plausible number is often accepted).
def _leaves(node: Any, prefix: str = "") -> list[str]:
    if not isinstance(node, dict):
        return [prefix]
    return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}.{k}" if prefix else k)]


leaf_paths = st.one_of(st.sampled_from(sorted(_leaves(BASELINE_RAW))), paths)

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, 1, -1, 2**63, 2**64, 10**6, 10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e308, -1e308, 5e-324, 1e6]),
)
scalars = st.one_of(
    numbers,
    st.booleans(),
    st.none(),
    st.text(max_size=30),
    st.sampled_from(["inf", "nan", "1e6", "true", "yes", "2025-01-06", "", "kabul", "us"]),
    st.dates(min_value=dt.date(1, 1, 1)),
)
keys = st.one_of(
    st.sampled_from(["us", "russia", "taliban", "kabul", "west", "afghanistan", "x", ""]),
    st.text(max_size=10),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=12,
)
interventions = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.one_of(st.text(max_size=10), numbers),
            "start": st.one_of(st.dates(), st.sampled_from(["2025-06-02", 20250602, True])),
            "set": st.dictionaries(paths, values, max_size=3),
        },
        optional={"end": st.one_of(st.dates(), st.none(), numbers)},
    ),
    max_size=2,
)


def _either_valid_or_config_error(call: Any) -> ScenarioConfig | None:
    """Run ``call``: a config, or None after a well-formed ConfigError; anything else fails."""
    try:
        result = call()
    except ConfigError as exc:
        message = str(exc)
        assert message
        assert "\n" not in message
        assert len(message) <= MAX_MESSAGE
        return None
    assert isinstance(result, ScenarioConfig)
    return result


@EXAMPLES
@given(path=paths, value=st.one_of(values, interventions))
def test_any_override_validates_or_raises_config_error(path: str, value: Any) -> None:
    _either_valid_or_config_error(lambda: validate(apply_overrides(BASELINE_RAW, [(path, value)])))


@EXAMPLES
@given(overrides=st.lists(st.tuples(paths, values), min_size=1, max_size=4))
def test_several_overrides_validate_or_raise_config_error(overrides: list[tuple[str, Any]]) -> None:
    _either_valid_or_config_error(lambda: validate(apply_overrides(BASELINE_RAW, overrides)))


def _yaml_text(value: Any) -> str:
    """``value`` written as flow YAML on one line, as a user would type after --set."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**9).strip().removesuffix("...")


YAML_TOKENS = [*"{}[]:,-&*!|>'\"#%@?~ \nab01.eE+_<=", "<<", ".inf", ".nan", "&a ", "*a", "!!"]
yaml_ish = st.lists(st.sampled_from(YAML_TOKENS), max_size=30).map("".join)


@EXAMPLES
@given(path=paths, text=st.one_of(values.map(_yaml_text), yaml_ish))
def test_any_set_text_validates_or_raises_config_error(path: str, text: str) -> None:
    _either_valid_or_config_error(lambda: load_config(BASELINE, [f"{path}={text}"]))


@EXAMPLES
@given(
    section=st.sampled_from(
        [
            *("run", "regions", "actors", "threat", "severity", "sharing", "trust"),
            *("exploitation", "counterintelligence", "interdiction", "interventions"),
            *("name", "extends", "bogus"),
        ]
    ),
    subtree=st.one_of(values, interventions),
)
def test_any_subtree_in_a_file_validates_or_raises_config_error(
    tmp_path: Path, section: str, subtree: Any
) -> None:
    path = tmp_path / "child.yaml"
    body = yaml.safe_dump({section: subtree}, default_flow_style=False)
    header = "" if section == "extends" else f"extends: {BASELINE}\n"
    path.write_text(header + "name: child\n" + body if section != "name" else header + body)
    _either_valid_or_config_error(lambda: load_config(path))


@EXAMPLES
@given(text=st.one_of(yaml_ish, st.text(max_size=60)))
def test_any_yaml_text_reads_or_raises_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "any.yaml"
    path.write_text(text, encoding="utf-8")
    for call in (lambda: read_yaml(path, "sweep"), lambda: parse_override(f"description={text}")):
        try:
            call()
        except ConfigError as exc:
            message = str(exc)
        else:
            message = ""
        assert "\n" not in message
        assert len(message) <= MAX_MESSAGE


def test_the_helper_tells_both_outcomes_apart() -> None:
    ok = _either_valid_or_config_error(
        lambda: validate(apply_overrides(BASELINE_RAW, [("trust.forgetting", 0.5)]))
    )
    assert ok is not None
    assert ok.trust.forgetting == 0.5
    bad = [("interdiction.hazard", float("nan"))]
    assert (
        _either_valid_or_config_error(lambda: validate(apply_overrides(BASELINE_RAW, bad))) is None
    )


# --------------------------------------------------------------------------------------
# The run path: `scenarios run --set ...` end to end, in this process
# --------------------------------------------------------------------------------------

RUN_EXAMPLES = settings(
    max_examples=20,
    # Generous: a valid run of 2 weeks takes about a second (its plots, mostly). This and
    # the watchdog below only catch runs that hang or grow without bound.
    deadline=timedelta(seconds=30),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HANG = 180  # seconds after which a run is deemed hung: the test process is stopped


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``scenarios ARGS`` through the command's own entry point: exit code and stderr."""
    from scenarios import cli

    # A hang fails loudly (traceback, then the test process exits), not forever.
    faulthandler.dump_traceback_later(HANG, exit=True, file=sys.__stderr__)
    try:
        with (
            mock.patch.object(sys, "argv", ["scenarios", *args]),
            mock.patch.object(cli, "sigterm_as_interrupt", return_value=None),
            mock.patch.dict(os.environ, {"SCENARIOS_DEBUG": ""}),
        ):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0
            else:
                code = 0
    finally:
        faulthandler.cancel_dump_traceback_later()
    return code, capsys.readouterr().err


# Values a config accepts often enough that many examples run the model, not only refusals.
plausible = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=0, max_value=20),
    st.sampled_from([0, 0.5, 1, 2, 26, 100, 520, 1e4]),
).map(str)
set_values = st.one_of(plausible, values.map(_yaml_text))


@pytest.mark.slow
@RUN_EXAMPLES
@given(overrides=st.lists(st.tuples(leaf_paths, set_values), min_size=1, max_size=2))
def test_any_set_through_run_exits_0_or_2(
    capsys: pytest.CaptureFixture[str], overrides: list[tuple[str, str]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        args = ["run", str(BASELINE), "--steps", "2", "--replications", "1", "--out", str(out)]
        for path, text in overrides:
            args += ["--set", f"{path}={text}"]
        code, err = _run_cli(args, capsys)
        event(f"exit {code}")
        assert code in (0, 2), err
        assert "Traceback" not in err
        assert "internal error" not in err
        if code == 2:
            assert err.startswith("error:"), err
            assert len(err) <= MAX_MESSAGE + 100
            assert not out.exists()
        else:
            assert (out / "manifest.json").exists()
        assert [p.name for p in Path(folder).iterdir() if p.name != "run"] == []
