"""docs/ODD.md keeps up with the config schema: one parameter-table row per schema leaf.

Every leaf field of ``ScenarioConfig`` must have a row in the ODD parameter table, named
by its dotted path with mapping keys written as placeholders (``actors.<actor>.coverage.
<region>``) and list positions as ``<i>``; and every row must name a real leaf, so the
table can neither fall behind the code nor keep rows for removed fields.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel

from scenarios.config import ScenarioConfig

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
TABLE_HEADING = re.compile(r"^## .*Parameter table", re.IGNORECASE)

# What the keys of each mapping-valued field stand for, by the field's placeholder path.
# A new mapping field in the schema needs an entry here (and rows in docs/ODD.md).
KEY_NAMES: dict[str, str] = {
    "regions": "region",
    "actors": "actor",
    "actors.<actor>.coverage": "region",
    "actors.<actor>.reach": "region",
    "actors.<actor>.stance": "other",
    "threat.initial_distribution": "region",
    "threat.target_preference": "country",
    "sharing.policy": "from",
    "sharing.policy.<from>": "to",
    "trust.initial": "truster",
    "trust.initial.<truster>": "trustee",
    "exploitation": "receiver",
    "exploitation.<receiver>": "sender",
    "counterintelligence.leakage": "receiver",
    "interventions.<i>.set": "path",
}


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated[...]`` and ``X | None`` down to the underlying type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _leaves(annotation: Any, path: str) -> list[str]:
    """Dotted placeholder paths of every leaf under ``annotation`` (at ``path``)."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    prefix = f"{path}." if path else ""
    if _is_model(annotation):
        return [
            leaf
            for name, field in annotation.model_fields.items()
            for leaf in _leaves(field.annotation, prefix + name)
        ]
    if origin is dict:
        assert path in KEY_NAMES, f"name the keys of mapping field {path!r} in KEY_NAMES"
        return _leaves(typing.get_args(annotation)[1], f"{path}.<{KEY_NAMES[path]}>")
    if origin is list and _is_model(_unwrap(typing.get_args(annotation)[0])):
        return _leaves(typing.get_args(annotation)[0], f"{path}.<i>")
    return [path]  # scalars, dates, lists/tuples of scalars


def _table_rows() -> list[list[str]]:
    """Cells of every row of the parameter-table section (header and rule rows skipped)."""
    rows: list[list[str]] = []
    inside = False
    for line in ODD.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            inside = bool(TABLE_HEADING.match(line))
            continue
        if not inside or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("name", "") or set(cells[0]) <= set("-: "):
            continue
        rows.append(cells)
    return rows


def _documented() -> dict[str, list[str]]:
    return {row[0].strip("`"): row for row in _table_rows()}


def test_schema_leaves_are_enumerated() -> None:
    leaves = _leaves(ScenarioConfig, "")
    assert len(leaves) == len(set(leaves))
    assert "threat.recruitment_rate" in leaves
    assert "actors.<actor>.coverage.<region>" in leaves
    assert "sharing.policy.<from>.<to>" in leaves
    assert "actors.<actor>.crackdown.intensity" in leaves


def test_every_config_parameter_is_in_the_odd_table() -> None:
    documented = _documented()
    assert documented, f"no parameter table found in {ODD}"
    missing = [leaf for leaf in _leaves(ScenarioConfig, "") if leaf not in documented]
    assert not missing, f"docs/ODD.md parameter table lacks rows for: {', '.join(missing)}"


def test_every_odd_table_row_is_a_config_parameter() -> None:
    leaves = set(_leaves(ScenarioConfig, ""))
    stale = [name for name in _documented() if name not in leaves]
    assert not stale, f"docs/ODD.md parameter table has rows for unknown paths: {stale}"


def test_odd_table_rows_are_complete() -> None:
    for row in _table_rows():
        assert len(row) == 6, f"expected 6 columns (name..source), got {len(row)}: {row}"
        assert all(row), f"empty cell in parameter table row: {row}"
