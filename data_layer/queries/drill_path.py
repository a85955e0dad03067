"""Where the revenue drill-down stands, as the address carries it, beside the query that reads it.

The drill path hospital → department → ward or medical group → doctor → the rows, with the period
and the revenue stream, lives in the page's address (`?period=ytd&stream=inpatient&dept=D001&
by=group&group=G0001&doctor=DR00012`) so it can be bookmarked and the back button works. `DrillState`
is that address parsed (`parse`) and written back (`query_string`); `path` is the `DrillPath` the
queries in data_layer/queries/revenue.py take. Parsing never trusts the address: an id that is not
a short string is dropped, an unknown period or stream falls back to the default; whether the ids
exist and belong to the department (and the department to the reader's scope) is checked by the
query layer (`revenue.check_path`) and the page kit.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlencode

from ..periods import PERIODS
from .revenue import BRANCHES, STREAMS, DrillPath

KEYS = ("period", "stream", "dept", "by", "ward", "group", "doctor")  # the address's keys, in its order
LEVEL_KEY = {"department": "dept", "ward": "ward", "group": "group", "doctor": "doctor"}
CUTS = {"top": ("period", "stream"), "dept": ("period", "stream", "dept", "by"),
        "member": ("period", "stream", "dept", "by", "ward", "group"), "doctor": KEYS}
DEFAULT_PERIOD = "ytd"
MAX_ID = 64
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def valid_period_key(key: Any) -> bool:
    """A named period (ytd, last-month …) or a month YYYY-MM."""
    return isinstance(key, str) and (key in PERIODS or bool(_MONTH.match(key)))


def clean_id(value: Any) -> str | None:
    """An id from the address: a short string or nothing (anything else is dropped)."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID else None


@dataclass(frozen=True)
class DrillState:
    """The drill-down's place in the address: period key, stream, and the path's ids."""

    period: str = DEFAULT_PERIOD
    stream: str = "all"
    dept: str | None = None
    by: str = "group"
    ward: str | None = None
    group: str | None = None
    doctor: str | None = None

    @classmethod
    def parse(cls, values: Mapping[str, Any] | None) -> DrillState:
        """The state from an address's values (or the page's stored state), with defaults for a
        missing or unknown period, stream or branch; a ward id puts the path on the ward branch."""
        v = dict(values or {})
        ward = clean_id(v.get("ward"))
        return cls(period=v["period"] if valid_period_key(v.get("period")) else DEFAULT_PERIOD,
                   stream=v["stream"] if v.get("stream") in STREAMS else "all", dept=clean_id(v.get("dept")),
                   by="ward" if v.get("by") == "ward" or ward else "group", ward=ward,
                   group=clean_id(v.get("group")), doctor=clean_id(v.get("doctor")))

    @staticmethod
    def exact(values: Any) -> bool:
        """Whether stored values parse to themselves in period and stream (a forged or broken state does not)."""
        if not isinstance(values, Mapping):
            return False
        s = DrillState.parse(values)
        return s.period == values.get("period") and s.stream == values.get("stream")

    def as_dict(self) -> dict[str, Any]:
        """The state as the page stores it (a dcc.Store's data)."""
        return asdict(self)

    def query_string(self) -> str:
        """The address's query string ("?…"): only the parts that are set; no branch without a department."""
        q = {k: v for k, v in self.as_dict().items() if v}
        if not self.dept:
            q.pop("by", None)
        return "?" + urlencode({k: q[k] for k in KEYS if k in q})

    def up_to(self, cut: str) -> DrillState:
        """The state cut back to `cut`: top (all departments), dept, member (ward or group), doctor."""
        keep = CUTS[cut]
        kept = {k: v for k, v in self.as_dict().items() if k in keep}
        return DrillState(**{"by": "group", **kept})  # type: ignore[arg-type]

    def down(self, level: str, key: str) -> DrillState:
        """The state one level below, at member `key` of `level` (department, ward, group, doctor)."""
        nxt = replace(self, **{LEVEL_KEY[level]: key})
        return replace(nxt, by="ward") if level == "ward" else nxt

    def with_choice(self, period: Any, stream: Any, by: Any) -> DrillState:
        """Another period or stream keeps the path; another branch goes back to the department."""
        nxt = replace(self, period=period if valid_period_key(period) else self.period,
                      stream=stream if stream in STREAMS else self.stream)
        if by in BRANCHES and by != nxt.by:
            nxt = replace(nxt.up_to("dept"), by=by)
        return nxt

    @property
    def path(self) -> DrillPath:
        """The DrillPath the revenue queries take; UserError when the ids do not make a path."""
        return DrillPath(self.dept, self.by, self.ward, self.group, self.doctor)
