"""Texts of an alert's knock-on effects and its case-mix adjusted view (the Alerts page's detail,
its list and the alert messages)."""
from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "alerts.exams": ("{n} 次检查", "{n} exams"),
    "alerts.knock_ons": ("连带影响", "Knock-on effects"),
    "alerts.knock_ons_help": ("以下发现由本预警的原因带动，归入本预警，不再单独预警。",
                              "These findings follow from this alert's cause: they are listed here, not raised as "
                              "alerts of their own."),
    "alerts.knock_on_count": ("+{n} 连带", "+{n} knock-ons"),
    "alerts.knock_on_one": ("+1 连带", "+1 knock-on"),
    "alerts.move.up": ("上升", "rise"),
    "alerts.move.down": ("下降", "drop"),
    "alerts.why.entity": ("由{entity}的{via}{move}带动", "moved by the {move} in {entity}'s {via}"),
    "alerts.why.dept": ("由本科室{via}{move}带动", "moved by the {move} in the department's {via}"),
    "alerts.why.same_stays": ("同一批住院病例的住院日，按各自DRG组的标杆衡量",
                              "the same stays, measured against their DRG groups' reference"),
    "alerts.why.budget": ("与本预警超出的金额是同一笔钱，记在预算项目 {item} 上",
                          "the same money booked against budget line {item}"),
    "alerts.case_mix": ("病例组合校正", "Case-mix adjusted view"),
    "alerts.case_mix.help": ("校正后指标把每个病例与其所属DRG组的标杆比较，剔除了收治病例轻重（病例组合）的影响。",
                             "The adjusted figure measures each case against its own DRG group's reference, which "
                             "takes out how heavy the cases were (the case mix)."),
    "alerts.case_mix.raw": ("原始指标", "Raw figure"),
    "alerts.case_mix.adjusted": ("校正后", "Case-mix adjusted"),
    "alerts.case_mix.figures": ("{indicator}：实际 {observed}，预期 {expected}，变动 {move}",
                                "{indicator}: {observed} against {expected} expected, a move of {move}"),
    "alerts.case_mix.kept": ("校正后保留 {share} 的变动", "{share} of the move remains after the case mix"),
    "alerts.case_mix.reading_kept": ("变动不能用收治病例更重来解释：剔除病例组合后大部分变动仍在，因此作为预警保留。",
                                     "Heavier cases do not explain the move: most of it remains once the case mix is "
                                     "taken out, so the alert stands."),
    "alerts.case_mix.reading_index": ("病例组合解释了部分变动，但校正后的{adjusted}本身也明显偏离近几个月的水平"
                                      "（稳健Z值 {z}），因此作为预警保留。",
                                      "The case mix explains part of the move, but the adjusted {adjusted} is itself "
                                      "far from its recent months (robust z {z}), so the alert stands."),
}
