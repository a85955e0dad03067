"""Texts of the department workspace (科室工作台) added for the phone layout and the target drill,
and of the shared palette (components/palette.py)."""
TEXTS: dict[str, tuple[str, str]] = {
    "palette.above_range": ("高于合理区间 {range}", "above the healthy range {range}"),
    "palette.below_range": ("低于合理区间 {range}", "below the healthy range {range}"),
    "palette.above_limit": ("高于上限 {limit}", "above the limit {limit}"),
    "palette.below_limit": ("低于下限 {limit}", "below the limit {limit}"),
}
TEXTS.update({
    "dw.why": ("为什么？", "Why?"),
    "dw.why_title": ("查看拉开差距的月份、医疗组和医生", "See the months, medical groups and doctors behind the gap"),
    "dw.pick_target": ("图表与原因：", "Chart and causes:"),
    "dw.no_such_target": ("本科室今年没有这项年度目标。", "This department has no such annual target this year."),
    "dw.short_period": ("本期只有 {days} 天的数据：变化幅度大多来自少量病例的波动，仅供参考；"
                        "月度判断请看“本年累计”或“上月”。",
                        "This period holds only {days} day(s) of data: its changes mostly reflect a handful of "
                        "cases; read the year to date or last month for a judgement."),
    "dw.x.basis": ("进度口径", "Pacing"),
    "dw.x.deviation_rel": ("偏差率", "Deviation (relative)"),
    "dw.monthly": ("当月水平", "Monthly level"),
    "dw.target_line": ("年度目标", "Annual target"),
    "dw.level_title": ("各月水平与目标", "monthly level against the target"),
    "dw.month_to_date": ("{month}（至今）", "{month} (to date)"),
    "dw.drill_summary": ("{indicator}：本年累计 {actual}，按进度应达 {expected}，偏差 {deviation}。",
                         "{indicator}: {actual} so far against {expected} expected by now, a gap of {deviation}."),
    "dw.drill_months": ("逐月：哪几个月拉开了差距", "Month by month: where the gap opened"),
    "dw.drill_groups": ("医疗组：与去年同期相比变化（最不利的在前）",
                        "Medical groups: change on the same days last year (the least favourable first)"),
    "dw.drill_doctors": ("医生：与去年同期相比变化最不利的 10 位",
                         "Doctors: the 10 with the least favourable change on last year"),
    "dw.drill_not_split": ("该指标只按科室核算，不能拆分到医疗组或医生。",
                           "This indicator is kept by department and cannot be split by medical group or doctor."),
    "dw.drill_revenue": ("在收入分析中逐级下钻（科室 → 医疗组 → 医生 → 病例）→",
                         "Drill down in the revenue analysis (department → group → doctor → case) →"),
    "dw.m.month": ("月份", "Month"),
    "dw.m.value": ("当月", "Month's figure"),
    "dw.m.year_ago": ("去年同月", "Same month last year"),
    "dw.m.expected": ("累计应达", "Expected to date"),
    "dw.m.target": ("目标", "Target"),
    "dw.m.gap": ("累计差距", "Gap to date"),
    "dw.m.note_sum": ("累计差距 = 截至该月累计完成 − 按同一进度规则（与上表相同）应达的累计数；最后一个月截至数据日期。",
                      "Gap to date = the cumulative actual at the end of the month − the target paced on the same "
                      "rule as the table above; the last month runs to the data date."),
    "dw.m.note_level": ("水平指标：各月数值与年度目标比较；最后一个月截至数据日期，病例少时波动较大。",
                        "A level: each month's figure against the annual target; the last month runs to the data "
                        "date and swings when it has few cases."),
})
TEXTS.update({f"dw.month.{i}": (f"{i}月", name) for i, name in
              enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)})
