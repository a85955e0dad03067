"""DRG groups: cases, weight, charge, payment, cost and margin, and who carries them.

On a warehouse that also holds DIP cases (contract version 2), the DRG views pass their filters
through `drg_only`, so their figures are of the cases paid by DRG and the DIP figures
(queries/dip.py) sit beside them without counting a case twice."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
from sqlalchemy import func, select

from ..periods import Period
from ..registry import Level
from ..schema import dim_department, fact_inpatient_case
from ..scope import Scope, scoped
from ..sources import Filters
from ..warehouse import Warehouse, memoized
from .dip import has_dip
from .kpis import indicator_values

GROUP_CODES = ("discharges", "cmi", "charge_per_discharge", "drg_payment", "drg_cost", "drg_margin",
               "drg_margin_per_case", "alos", "time_index", "cost_index")
ip = fact_inpatient_case.c
COST_PARTS = ("cost_personnel", "cost_drug", "cost_material", "cost_equipment", "cost_overhead")


def drg_only(wh: Warehouse, filters: Filters = Filters()) -> Filters:
    """`filters` narrowed to the cases paid by DRG (payment_scheme = drg) when the warehouse also
    holds DIP cases; unchanged otherwise (a version 1 warehouse, a hospital paid by DRG only) or when
    the caller already chose schemes."""
    if filters.scheme or not has_dip(wh):
        return filters
    return replace(filters, scheme=("drg",))


def scheme_conds(filters: Filters) -> list:
    """The payment-scheme restriction of `filters` on inpatient cases, for statements built by hand."""
    return [ip.payment_scheme.in_(list(filters.scheme))] if filters.scheme else []


def _wide(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=["key", "name_zh", "name_en", *GROUP_CODES])
    wide = df.pivot_table(index=["key", "name_zh", "name_en"], columns="indicator", values="value")
    return wide.reindex(columns=list(GROUP_CODES)).reset_index()  # every column, even one with no value


@memoized
def drg_groups(wh: Warehouse, scope: Scope, period: Period, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per DRG group with cases: weight (cmi of the group), average charge, payment, cost,
    margin per case and in total, stays and the consumption indices; loss-makers first."""
    out = _wide(indicator_values(wh, scope, GROUP_CODES, period, Level.drg, filters))
    out = out.rename(columns={"key": "drg_code", "cmi": "weight", "discharges": "cases"})
    out["payment_per_case"] = out["drg_payment"] / out["cases"]
    out["cost_per_case"] = out["drg_cost"] / out["cases"]
    return out.sort_values(["drg_margin", "drg_code"], kind="stable").reset_index(drop=True)


@memoized
def drg_departments(wh: Warehouse, scope: Scope, period: Period, drg_code: str,
                    filters: Filters = Filters()) -> pd.DataFrame:
    """The departments that carry one DRG group: cases, margin per case and in total."""
    codes = ("discharges", "drg_margin", "drg_margin_per_case", "charge_per_discharge", "alos")
    narrowed = Filters(**{**filters.__dict__, "drg": (drg_code,)})
    out = _wide(indicator_values(wh, scope, codes, period, Level.department, narrowed))
    return out.rename(columns={"key": "dept_id", "discharges": "cases"}).sort_values(
        "drg_margin", kind="stable").reset_index(drop=True)


@memoized
def drg_cost_structure(wh: Warehouse, scope: Scope, period: Period, drg_code: str,
                       filters: Filters = Filters()) -> pd.DataFrame:
    """Per case: the cost components (personnel, drugs, materials, equipment, overhead) and the payment."""
    cols = [func.sum(getattr(ip, c)).label(c) for c in COST_PARTS]
    conds = [ip.drg_code == drg_code, ip.discharge_date.between(period.start, period.end)]
    if filters.division:
        conds.append(dim_department.c.division.in_(filters.division))
    if filters.campus:
        conds.append(dim_department.c.campus_id.in_(filters.campus))
    conds += scheme_conds(filters)
    stmt = scoped(select(func.count().label("cases"), func.sum(ip.drg_payment).label("payment"), *cols)
                  .select_from(fact_inpatient_case.join(dim_department, ip.dept_id == dim_department.c.dept_id))
                  .where(*conds), scope)
    row = wh.frame(stmt).iloc[0]
    cases = int(row["cases"] or 0)
    parts = [(c.removeprefix("cost_"), float(row[c] or 0) / cases if cases else float("nan")) for c in COST_PARTS]
    parts.append(("payment", float(row["payment"] or 0) / cases if cases else float("nan")))
    return pd.DataFrame(parts, columns=["component", "per_case"]).assign(cases=cases)
