"""Texts of payment by DIP (按病种分值付费): the workspace DRG tab's DIP section and the DRG screen's DIP band."""
TEXTS: dict[str, tuple[str, str]] = {
    # workspace section
    "ws.dip.title": ("DIP病种（按病种分值付费）", "DIP packets (payment by DIP)"),
    "ws.dip.unavailable": ("本数据仓库没有DIP（按病种分值付费）数据：DIP病种、点值与结余在此不可用"
                           "（需要数据仓库接口第2版的DIP表与字段）。",
                           "DIP (payment by Diagnosis-Intervention Packet) is not available in this warehouse: it "
                           "needs the DIP tables and columns of version 2 of the warehouse contract."),
    "ws.dip.note": ("预估支付 = 病种分值 × 最新月度预估点值 × 医院系数（按医保基金分别计算）；结余 = 预估支付 − 病例成本；"
                    "入账支付为入库时按出院当月点值估算的金额。高倍率病例：住院总费用高于该病种区域例均费用的 {high} 倍；"
                    "低倍率病例：低于 {low} 倍（常见的地方规则，各统筹区规定不同）。DIP病例不计入上方DRG病组。",
                    "Estimated payment = packet score × the latest monthly point-value estimate × the hospital "
                    "coefficient, for each insurance fund; margin = estimated payment − case cost; booked payment is "
                    "what was estimated at load time at the point value of the discharge month. High-ratio cases: total "
                    "charge above {high} × the packet's regional charge per case; low-ratio cases: below {low} × (the "
                    "common regional rule; pooling regions differ). DIP cases are not counted in the DRG groups above."),
    "ws.dip.rates": ("最新预估点值（{month}）：{funds}。", "Latest point-value estimate ({month}): {funds}."),
    "ws.dip.rate": ("{fund} {value} 元/分 × 系数 {coef}", "{fund} {value} yuan a point × coefficient {coef}"),
    "ws.dip.summary": ("本期DIP病例 {cases} 例，预估支付 {payment}，病例成本 {cost}，结余 {margin}；"
                       "亏损病种 {losers} 个（共 {packets} 个）。",
                       "{cases} DIP cases in the period: estimated payment {payment}, case cost {cost}, margin {margin}; "
                       "{losers} of {packets} packets loss-making."),
    "ws.dip.drg_paid_only": ("本数据仓库同时有DIP付费病例：DRG病组仅含DRG付费病例，DIP病例见下方DIP病种，"
                              "按项目付费及自费病例不计入。",
                             "This warehouse also holds DIP cases: the DRG groups count the cases paid by DRG only; the "
                             "DIP cases are in the DIP packets below, fee-for-service and self-pay cases in neither."),
    "ws.dip.none": ("该科室在此期间没有DIP病例。", "This department has no DIP cases in the period."),
    "ws.dip.none_scope": ("您可查看的科室在此期间没有DIP病例。", "Your departments have no DIP cases in the period."),
    "ws.dip.packets": ("本科室DIP病种", "DIP packets of the department"),
    "ws.dip.packets_note": ("亏损病种在前；点击病种所在行查看其病例。",
                            "Loss-makers first; click a packet's row to see its cases."),
    "ws.dip.sensitivity_title": ("点值敏感性", "Point-value sensitivity"),
    "ws.dip.sensitivity": ("如果结算点值比预估低{cut}，以下病种将转为亏损：{names}。"
                           "本科室DIP结余将由 {before} 变为 {after}（影响 {effect}）。",
                           "If the final point value lands {cut} below the estimate, these packets turn loss-making: "
                           "{names}. The department's DIP margin would go from {before} to {after} (effect {effect})."),
    "ws.dip.sensitivity_none": ("如果结算点值比预估低{cut}，没有病种由盈转亏。"
                                "本科室DIP结余将由 {before} 变为 {after}（影响 {effect}）。",
                                "If the final point value lands {cut} below the estimate, no packet turns loss-making. "
                                "The department's DIP margin would go from {before} to {after} (effect {effect})."),
    "ws.dip.departments": ("各科室DIP结余（您可查看的科室）", "DIP margin by department (your departments)"),
    "ws.dip.side": ("支付方式对比与各科室DIP结余", "Payment schemes side by side, and DIP by department"),
    "ws.dip.split": ("按支付方式", "By payment scheme"),
    "ws.dip.trend": ("DIP点值走势：月度预估与年度清算", "DIP point value: monthly estimates and the year's final settlement"),
    "ws.dip.trend_y": ("点值（元/分）", "Point value (yuan a point)"),
    "ws.dip.trend_estimate": ("{fund}月度预估", "{fund}, monthly estimate"),
    "ws.dip.trend_final": ("{fund}年度清算", "{fund}, final settlement"),
    "ws.dip.settlement": ("已清算年度：{items}。", "Settled years: {items}."),
    "ws.dip.settlement_item": ("{year}年清算比预估 {effect}（{share}）", "{year}: final vs estimate {effect} ({share})"),
    "ws.dip.pick": ("病种", "Packet"),
    "ws.dip.pick_note": ("选择一个病种，或点击表中的行，查看其病例（高倍率、低倍率病例在前）。",
                         "Pick a packet, or click its row in the grid, to see its cases (high- and low-ratio cases first)."),
    "ws.dip.cases_section": ("病种病例", "Cases of a packet"),
    "ws.dip.cases_title": ("病种病例：{name}", "Cases of the packet: {name}"),
    "ws.dip.cases_count": ("共 {total} 例；高倍率 {high} 例，低倍率 {low} 例；区域例均费用 {ref}。",
                           "{total} cases; {high} high-ratio, {low} low-ratio; regional charge per case {ref}."),
    "ws.dip.unknown_packet": ("本科室在此期间没有该病种的DIP病例。",
                              "The department has no DIP case of this packet in the period."),
    "ws.dip.core": ("核心病种", "Core"),
    "ws.dip.comprehensive": ("综合病种", "Comprehensive"),
    "ws.dip.flag.high": ("高倍率", "High ratio"),
    "ws.dip.flag.low": ("低倍率", "Low ratio"),
    # columns
    "ws.dip.c.code": ("病种编码", "Packet"),
    "ws.dip.c.name": ("病种名称", "Name"),
    "ws.dip.c.kind": ("类别", "Kind"),
    "ws.dip.c.cases": ("病例数", "Cases"),
    "ws.dip.c.score": ("病种分值", "Score"),
    "ws.dip.c.points": ("总分值", "Points"),
    "ws.dip.c.charge_per_case": ("例均费用", "Charge per case"),
    "ws.dip.c.ref_charge": ("区域例均费用", "Regional charge per case"),
    "ws.dip.c.est_payment": ("预估支付", "Estimated payment"),
    "ws.dip.c.payment": ("入账支付", "Booked payment"),
    "ws.dip.c.cost": ("病例成本", "Case cost"),
    "ws.dip.c.margin": ("结余", "Margin"),
    "ws.dip.c.margin_per_case": ("例均结余", "Margin per case"),
    "ws.dip.c.booked_margin": ("入账结余", "Booked margin"),
    "ws.dip.c.high": ("高倍率病例", "High-ratio cases"),
    "ws.dip.c.low": ("低倍率病例", "Low-ratio cases"),
    "ws.dip.c.dept": ("科室", "Department"),
    "ws.dip.c.packets": ("病种数", "Packets"),
    "ws.dip.c.case_id": ("病案号", "Case"),
    "ws.dip.c.discharge": ("出院日期", "Discharged"),
    "ws.dip.c.fund": ("医保基金", "Fund"),
    "ws.dip.c.los": ("住院日", "Stay (days)"),
    "ws.dip.c.doctor": ("医生", "Doctor"),
    "ws.dip.c.charge": ("住院总费用", "Total charge"),
    "ws.dip.c.ratio": ("费用倍率", "Charge ratio"),
    "ws.dip.c.flag": ("倍率", "Ratio case"),
    "ws.dip.c.case_margin": ("结余（入账）", "Margin (booked)"),
    "ws.dip.c.scheme": ("支付方式", "Payment scheme"),
    "ws.dip.c.revenue": ("收入（按支付方式）", "Revenue (as the scheme pays)"),
    "ws.dip.scheme.drg": ("DRG付费", "Paid by DRG"),
    "ws.dip.scheme.dip": ("DIP付费", "Paid by DIP"),
    "ws.dip.scheme.fee_for_service": ("按项目付费及自费", "Fee for service and self-pay"),
    "ws.dip.split_note": ("收入：DRG、DIP病例为医保支付（DIP为入账预估），按项目付费病例为住院总费用。",
                          "Revenue: the payment for DRG and DIP cases (for DIP the booked estimate), the total charge "
                          "for fee-for-service cases."),
    "ws.dip.fund.employee": ("职工医保", "Employee insurance"),
    "ws.dip.fund.resident": ("居民医保", "Resident insurance"),
    "ws.dip.fund.other": ("其他", "Other"),
    "ws.dip.export_packets": ("DIP病种", "DIP packets"),
    "ws.dip.export_departments": ("各科室DIP结余", "DIP by department"),
    # wall band
    "drg.dip.band": ("DIP病种（按病种分值付费）", "DIP packets (payment by DIP)"),
    "drg.dip.cases": ("DIP病例", "DIP cases"),
    "drg.dip.payment": ("预估支付", "Estimated payment"),
    "drg.dip.margin": ("DIP结余", "DIP margin"),
    "drg.dip.losers": ("亏损病种", "Loss-making packets"),
    "drg.dip.fund.employee": ("职工医保", "Employee"),
    "drg.dip.fund.resident": ("居民医保", "Resident"),
    "drg.dip.final": ("{fund}清算", "{fund}, final"),
    "drg.dip.trend": ("点值走势", "Point value"),
    "drg.dip.worst": ("亏损最多的病种", "Largest losses"),
    "drg.dip.no_losers": ("本期没有亏损病种。", "No packet is loss-making in the period."),
    "drg.dip.sensitivity": ("结算点值比预估低{cut}：{n} 个病种转为亏损，结余 {before} → {after}",
                            "Final point value {cut} below the estimate: {n} packets turn loss-making, margin "
                            "{before} → {after}"),
    "drg.dip.none": ("本期没有DIP病例。", "No DIP cases in the period."),
    "drg.dip.rate_note": ("按最新预估点值（{month}）计", "At the latest point-value estimate ({month})"),
}
