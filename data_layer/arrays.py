"""Small numeric helpers on arrays, shared by the data layer's assembly code."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def driver_floats(values: Sequence[Any]) -> np.ndarray:
    """Numbers as a float array (None, NaN and anything that is not a number as NaN): what drivers
    return for sums and counts (int, float, Decimal) converts directly, in one step rather than
    pandas' per-column checks; anything else through pandas."""
    try:
        return np.array(values, dtype=float)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den element by element, NaN where den is 0 or NaN: nothing to divide by, no figure."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out
