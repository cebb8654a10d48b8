"""Plain names: the only user-given names the tool builds paths from.

A scenario's ``name`` (also through ``--set name=...``), an experiment's ``name`` and
scenario labels, and a sweep's ``name`` and outcomes become directory or file names. Each
must be a plain name, so that no name can be ``.``, ``..``, contain a separator or be an
absolute path: whatever the input, output stays inside the directory the user named.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
NAME_RULE = (
    "a plain name is 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or "
    "digit (no '/', no '.' or '..')"
)


def is_plain_name(value: object) -> bool:
    """Whether ``value`` is a plain name (see ``NAME_PATTERN``)."""
    return isinstance(value, str) and re.fullmatch(NAME_PATTERN, value) is not None


def plain_name(value: str) -> str:
    """``value`` if it is a plain name; ValueError saying what is allowed otherwise."""
    if not is_plain_name(value):
        raise ValueError(f"not a plain name; {NAME_RULE}")
    return value


PlainName = Annotated[
    str, AfterValidator(plain_name), WithJsonSchema({"type": "string", "pattern": NAME_PATTERN})
]
