"""Root causes (issue 16): knock-on findings are grouped under the alert nearest their cause, and
only when the cause explains them; the evaluation counts a grouped consequence as part of its cause."""
from __future__ import annotations

from datetime import date

import pytest

from data_layer.alerts.detect import Alert, explains, group_causes
from data_layer.alerts.evaluate import Score, matches, score

JAN, JAN_END = date(2026, 1, 1), date(2026, 1, 31)


def _alert(kind: str, indicator: str, *, dept: str = "D1", level: str = "yellow", dev: float = 0.3,
           entity: tuple[str, str] | None = None, drivers: list[dict] | None = None, amount: float | None = None,
           start: date = JAN, end: date = JAN_END) -> Alert:
    return Alert(kind, level, dept, indicator, start, end, 1.0 + dev, 1.0, 0.9, 1.1, dev, "test",
                 entity[0] if entity else None, entity[1] if entity else None, drivers or [], amount=amount)


def _group(gid: str, share: float) -> list[dict]:
    return [{"type": "group", "id": gid, "contribution": share}]


def test_a_groups_drug_surge_carries_the_departments_knock_ons() -> None:
    cause = _alert("group_charge", "drug_charge_per_discharge", entity=("group", "G1"), dev=0.8, amount=50_000,
                   drivers=_group("G1", 1.0))
    share = _alert("robust_z", "drug_share", level="orange", dev=0.15, drivers=_group("G1", 0.9))
    per_case = _alert("robust_z", "charge_per_discharge", dev=0.1, drivers=_group("G1", 0.7))
    budget = _alert("budget_overrun", "budget_execution", entity=("budget_item", "B02"), amount=47_000)
    (root,) = group_causes([share, budget, cause, per_case])
    assert root is cause and root.level == "orange"  # the worst of what it explains
    assert {c["indicator"] for c in root.consequences} == {"drug_share", "charge_per_discharge", "budget_execution"}
    assert {c["via"] for c in root.consequences} == {"drug_charge_per_discharge"}


def test_what_the_cause_does_not_explain_stays_an_alert_of_its_own() -> None:
    cause = _alert("group_charge", "drug_charge_per_discharge", entity=("group", "G1"), amount=50_000)
    other_group = _alert("robust_z", "drug_share", drivers=_group("G2", 0.9))
    other_dept = _alert("robust_z", "drug_share", dept="D2", drivers=_group("G1", 0.9))
    other_month = _alert("robust_z", "drug_share", drivers=_group("G1", 0.9), start=date(2026, 3, 1),
                         end=date(2026, 3, 31))
    unrelated = _alert("robust_z", "charge_per_visit", drivers=_group("G1", 0.9))
    big_budget = _alert("budget_overrun", "budget_execution", entity=("budget_item", "B07"), amount=400_000)
    found = group_causes([cause, other_group, other_dept, other_month, unrelated, big_budget])
    assert len(found) == 6 and not cause.consequences


def test_a_chain_of_causes_collects_under_the_nearest() -> None:
    stay = _alert("drg_stay", "alos", entity=("drg", "XR15"), dev=0.5, drivers=[{"type": "drg", "id": "XR15",
                                                                               "contribution": 1.0}])
    dept_stay = _alert("robust_z", "alos", dev=0.12, drivers=[{"type": "drg", "id": "XR15", "contribution": 0.6},
                                                              {"type": "group", "id": "G3", "contribution": 1.0}])
    time_index = _alert("robust_z", "time_index", dev=0.1, drivers=[{"type": "drg", "id": "XR15",
                                                                     "contribution": 0.5}])
    (root,) = group_causes([time_index, dept_stay, stay])
    assert root is stay and {c["indicator"] for c in root.consequences} == {"alos", "time_index"}
    assert not explains(dept_stay, stay)  # a department figure never explains its own group's


def test_a_grouped_consequence_counts_as_part_of_its_cause() -> None:
    cause = _alert("group_charge", "material_charge_per_discharge", entity=("group", "G1"), amount=10_000)
    cause.consequences = [{"kind": "robust_z", "level": "yellow", "indicator": "material_share",
                           "entity_type": None, "entity_id": None, "period_start": "2026-01-01",
                           "period_end": "2026-01-31", "observed": 0.3, "expected": 0.2, "deviation": 0.5}]
    anomaly = {"kind": "material_spike", "dept_id": "D1", "indicators": ["material_share"], "entity": None,
               "start": "2026-01-01", "end": "2026-01-31"}
    assert matches(cause, anomaly)
    sc = score([cause], [anomaly], date(2025, 1, 1))
    assert (sc.alerts, sc.true_alerts, sc.recall, sc.precision) == (1, 1, 1.0, 1.0)


def test_another_groups_finding_does_not_find_an_anomaly_of_a_named_group() -> None:
    anomaly = {"kind": "los_creep", "dept_id": "D1", "indicators": ["alos"], "entity": {"type": "drg", "id": "XR15"},
               "start": "2026-01-01", "end": "2026-01-31"}
    assert matches(_alert("drg_stay", "alos", entity=("drg", "XR15")), anomaly)
    assert not matches(_alert("drg_stay", "alos", entity=("drg", "IS25")), anomaly)
    assert matches(_alert("robust_z", "alos"), anomaly)  # the department's own figure moved with it


def test_scores_pool_over_seeds_and_a_clean_hospital_has_no_recall() -> None:
    anomaly = {"kind": "material_spike", "dept_id": "D1", "indicators": ["material_share"], "entity": None,
               "start": "2026-01-01", "end": "2026-01-31"}
    hit, miss = _alert("robust_z", "material_share"), _alert("robust_z", "alos", dept="D9")
    a = score([hit, miss], [anomaly], date(2025, 1, 1))
    clean = score([miss], [], date(2025, 1, 1))
    total = a + clean
    assert (total.alerts, total.true_alerts, total.injected, total.found, total.months) == (3, 1, 1, 1, 30)
    assert total.false_by_check == {"robust_z": 2}
    assert clean.recall != clean.recall and clean.f1 != clean.f1  # nothing to find: undefined, not 0
    assert isinstance(total, Score) and total.precision == pytest.approx(1 / 3)
