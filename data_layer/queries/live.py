"""Intraday figures for the wall display, with their fallback to the latest complete day."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, func, select

from ..schema import dim_department, fact_live_snapshot
from ..scope import Scope
from ..warehouse import Warehouse, memoized

live = fact_live_snapshot.c


@memoized
def live_figures(wh: Warehouse, scope: Scope) -> pd.DataFrame:
    """The newest snapshot of each metric per campus the scope covers.

    Columns: campus_id, metric_code, value, captured_at. Empty when the warehouse has no
    intraday feed; pages then show the latest daily figures and say so. Live figures are
    campus-wide, so a scope narrower than a campus sees none.
    """
    cols = ["campus_id", "metric_code", "value", "captured_at"]
    if not scope.covers_whole_campuses:
        return pd.DataFrame(columns=cols)
    campuses = select(dim_department.c.campus_id).where(scope.clause())
    newest = (select(live.campus_id, live.metric_code, func.max(live.captured_at).label("at"))
              .where(live.campus_id.in_(campuses)).group_by(live.campus_id, live.metric_code).subquery())
    stmt = (select(live.campus_id, live.metric_code, live.value, live.captured_at)
            .join(newest, and_(live.campus_id == newest.c.campus_id, live.metric_code == newest.c.metric_code,
                               live.captured_at == newest.c.at))
            .order_by(live.campus_id, live.metric_code))
    df = wh.frame(stmt)
    df["value"] = pd.to_numeric(df["value"]).astype(float)
    return df[cols]
