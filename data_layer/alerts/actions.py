"""Suggested actions: a small catalog keyed by indicator and the direction it moved."""
from __future__ import annotations

# (indicator, direction) -> (zh, en)
ACTIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("material_share", "up"): ("核查相关医疗组的高值耗材使用，与其DRG支付标准对照，必要时开展耗材专项点评。",
                               "Review high-value consumables of the named groups against their DRG payment; "
                               "audit consumable use if needed."),
    ("drug_share", "up"): ("开展处方与医嘱点评，重点核查所列医疗组的辅助用药和高价药品。",
                           "Review prescriptions and orders, starting with supportive and high-cost drugs of the "
                           "named groups."),
    ("charge_per_discharge", "up"): ("分析次均费用构成变化，核对所列病组的费用结构与支付标准。",
                                     "Break down the rise in charge per case; check the named DRG groups' cost "
                                     "structure against their payment."),
    ("drug_charge_per_discharge", "up"): ("对该医疗组开展住院医嘱与处方点评，核查辅助用药、高价药品和超说明书用药。",
                                          "Review the medical group's inpatient orders: supportive, high-cost and "
                                          "off-label drugs."),
    ("material_charge_per_discharge", "up"): ("核查该医疗组的高值耗材使用及计费，与其DRG支付标准对照。",
                                              "Check the medical group's high-value consumables and their billing "
                                              "against its DRG payments."),
    ("charge_per_visit", "up"): ("核查门诊处方和检查开单，关注所列医生的次均费用变化。",
                                 "Review outpatient prescriptions and test orders; look at the named doctors' "
                                 "charge per visit."),
    ("alos", "up"): ("对所列病组开展住院日管理：检查术前等待、会诊和出院计划，落实临床路径。",
                     "Manage stays in the named DRG groups: pre-operative waits, consultations, discharge planning, "
                     "clinical pathways."),
    ("time_index", "up"): ("对照区域参考住院日，梳理延长住院的病例和环节。",
                           "Compare with the regional reference stay; find the cases and steps that lengthen stays."),
    **dict.fromkeys((("energy_cost", "up"), ("energy_per_10k_revenue", "up")), (
        "联系后勤核查能耗计量与设备运行，排查异常用能。",
        "Ask facilities to check energy metering and equipment running; look for abnormal consumption.")),
    ("outpatient_visits", "down"): ("核实门诊排班、号源开放与停诊情况，了解患者流向变化。",
                                    "Check clinic rosters, appointment slots and cancelled sessions; look at where "
                                    "patients went."),
    ("equipment_utilization", "down"): ("确认设备是否故障停机或待维修，协调维修与检查预约分流。",
                                        "Confirm whether the device is down or awaiting repair; arrange repair and "
                                        "redirect bookings."),
    ("budget_execution", "up"): ("核对该预算项目的支出明细，确认是否需要预算调整或暂停支出。",
                                 "Check the item's spending; decide on a budget adjustment or a spending hold."),
    ("bed_occupancy", "up"): ("床位持续超负荷（加床），评估床位调配、日间手术和出院流程。",
                              "Beds run over capacity (extra beds): review bed allocation, day surgery and discharge "
                              "flow."),
}
GENERIC = ("与科室沟通该指标变化的原因，记录问题、原因与改进建议。",
           "Discuss the change with the department; record problem, cause and suggestion.")


def action_key(indicator: str, deviation: float) -> str:
    return f"{indicator}:{'up' if deviation >= 0 else 'down'}"


def suggested_action(key: str, lang: str) -> str:
    indicator, _, direction = key.partition(":")
    zh, en = ACTIONS.get((indicator, direction), GENERIC)
    return zh if lang == "zh" else en
