"""The model's outputs stay identical to the saved reference, to the last bit.

Performance work must not change what the model computes. If a change of the outputs is
intended, regenerate the reference with ``python tests/reference/make_reference.py`` and
say why in the commit message.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from tests.reference.make_reference import CASES, HERE, run_case


@pytest.mark.parametrize("name", list(CASES))
def test_outputs_match_reference(name: str) -> None:
    summary, timeseries = run_case(name)
    for kind, frame in (("summary", summary), ("timeseries", timeseries)):
        expected = pd.read_parquet(HERE / f"{name}.{kind}.parquet")
        buffer = io.BytesIO()  # the same round trip through parquet as the reference's
        frame.to_parquet(buffer, index=False)
        frame = pd.read_parquet(buffer)
        # Exact: same columns in the same order, same dtypes, bit-identical values.
        pd.testing.assert_frame_equal(frame, expected, check_exact=True)
