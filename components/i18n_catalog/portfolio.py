"""Texts of the workspace portfolio (所辖科室)."""
TEXTS: dict[str, tuple[str, str]] = {
    "ws.portfolio": ("所辖科室关键指标", "Key indicators of your departments"),
    "ws.pf.subtitle": ("共 {n} 个科室", "{n} departments"),
    "ws.pf.subtitle_one": ("共 1 个科室", "1 department"),
    "ws.pf.department": ("科室", "Department"),
    "ws.pf.alerts": ("未处理预警", "Open alerts"),
    "ws.pf.no_alerts": ("无", "none"),
    "ws.pf.click_hint": ("点击科室所在行打开科室工作台，点击“收入分析”一列打开该科室的收入分析；点击表头排序，表头菜单可筛选。",
                         "Click a department's row to open its page, or its Revenue drill-down cell to open its "
                         "revenue drill-down; click a header to sort, and use its menu to filter."),
    "ws.pf.target": ("年度目标", "Target"),
    "ws.pf.legend": ("颜色：", "Colour:"),
    "ws.pf.score.2": ("明显好于目标或去年", "well ahead of target or last year"),
    "ws.pf.score.1": ("好于目标或去年", "ahead of target or last year"),
    "ws.pf.score.0": ("持平", "in line"),
    "ws.pf.score.-1": ("差于目标或去年", "behind target or last year"),
    "ws.pf.score.-2": ("明显差于目标或去年", "well behind target or last year"),
    "ws.pf.rules": ("本年累计时，有年度目标的指标按目标进度着色（按进度正常 / 有风险 / 落后）；"
                    "其余指标按与去年同期相比的变化着色："
                    "金额和数量变化 2% 以内为持平，10% 以上为明显；比率变化 0.5 个百分点以内为持平，2 个百分点以上为明显。"
                    "好坏以指标登记的方向（越高越好或越低越好）和合理区间为准：显示为 +0.0 的变化为持平；"
                    "超出合理区间（如床位使用率高于 105%，预警规则视为超负荷）的数值加 ⚠ 和虚线框，"
                    "此时继续远离区间为变差、回到区间方向为变好，且不会显示为“好于”；无好坏方向的指标不着色。",
                    "Year to date, an indicator with an annual target is coloured by its pace against the target "
                    "(on track / at risk / off track); every other cell by its change on the same period last year: "
                    "amounts and counts within 2% are in line and beyond 10% strong; ratios within 0.5 points are in "
                    "line and beyond 2 points strong. Better or worse follows the indicator's registered direction "
                    "and healthy range: a change shown as +0.0 is in line; a value outside its healthy range (bed "
                    "occupancy above 105%, which the alert rules call an overload) carries ⚠ and a dashed frame, "
                    "moving further out counts as worse and back toward the range as better, and it is never shown "
                    "as ahead; an indicator with no better direction is not coloured."),
    "ws.pf.out_of_range": ("超出合理区间", "outside the healthy range"),
    "ws.pf.col.range": ("合理区间提示", "Healthy range"),
    "ws.pf.col.dept_id": ("科室编码", "Department code"),
    "ws.pf.col.value": ("本期", "Value"),
    "ws.pf.col.previous": ("上期", "Previous period"),
    "ws.pf.col.year_ago": ("去年同期", "Same period last year"),
    "ws.pf.col.basis": ("着色依据", "Coloured by"),
    "ws.pf.col.status": ("目标状态", "Target status"),
    "ws.pf.col.score": ("评分（-2至2）", "Score (-2 to 2)"),
    "ws.pf.basis.target": ("年度目标", "annual target"),
    "ws.pf.basis.history": ("去年同期", "last year"),
}
