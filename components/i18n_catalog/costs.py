"""Texts of the workspace section cost monitoring (成本监测): composition and the five-dimension model."""
TEXTS: dict[str, tuple[str, str]] = {
    "ws.costs.composition": ("科室全成本构成", "Full cost composition"),
    "ws.costs.model": ("五维成本监测模型", "Five-dimension cost monitoring model"),
    "ws.costs.share": ("占比", "Share"),
    "ws.costs.last_year": ("去年同期", "Same months last year"),
    "ws.costs.yoy": ("同比", "YoY"),
    "ws.costs.share_diff": ("占比变化", "Share change"),
    "ws.costs.window": ("已关账月份 {start} 至 {end}，对比去年同期 {ago_start} 至 {ago_end}。",
                        "Closed months {start} to {end}, against the same months a year earlier ({ago_start} to "
                        "{ago_end})."),
    "ws.costs.window_no_ago": ("已关账月份 {start} 至 {end}；去年同期无数据。",
                               "Closed months {start} to {end}; no data for the same months a year earlier."),
    "ws.costs.chart_title": ("成本构成：本期与去年同期（万元）", "Cost by category: this period and a year earlier (10k yuan)"),
    "ws.costs.chart_share": ("构成占比", "Share of full cost"),
    "ws.costs.this_period": ("本期", "This period"),
    "ws.costs.tolerance": ("判定阈值（与中位数相差 %）", "Tolerance (% from the median)"),
    "ws.costs.dimension": ("维度", "Dimension"),
    "ws.costs.indicator": ("指标", "Indicator"),
    "ws.costs.value": ("本科室", "This department"),
    "ws.costs.months": ("统计区间", "Covers"),
    "ws.costs.median": ("全院临床科室中位数", "Hospital median (clinical)"),
    "ws.costs.peers": ("参与科室数", "Departments in median"),
    "ws.costs.year_ago": ("去年同期", "Same period last year"),
    "ws.costs.baseline": ("前12个月基线", "Previous 12 months"),
    "ws.costs.target": ("年度目标", "Annual target"),
    "ws.costs.verdict": ("研判", "Verdict"),
    "ws.costs.gap_median": ("较中位数", "vs median"),
    "ws.costs.gap_year_ago": ("较去年同期", "vs last year"),
    "ws.costs.gap_baseline": ("较基线", "vs baseline"),
    "ws.costs.gap_target": ("较目标", "vs target"),
    "ws.costs.direction": ("方向", "Direction"),
    "ws.costs.dir.up": ("越高越好", "higher is better"),
    "ws.costs.dir.down": ("越低越好", "lower is better"),
    "ws.costs.dir.none": ("无方向（按越低越好研判）", "no direction (read as lower is better)"),
    "ws.costs.v.over": ("资源超用", "Over-used"),
    "ws.costs.v.under": ("资源低用", "Under-used"),
    "ws.costs.v.in_line": ("基本持平", "In line"),
    "ws.costs.v.none": ("无基准", "No benchmark"),
    "ws.costs.summary_counts": ("超用 {over} · 持平 {in_line} · 低用 {under}",
                                "{over} over · {in_line} in line · {under} under"),
    "ws.costs.summary_unknown": ("{n} 项无基准", "{n} without a benchmark"),
    "ws.costs.no_value": ("本科室无此项数据", "no value for this department"),
    "ws.costs.rules": (
        "研判规则：以全院临床科室（各科室本期指标值）的中位数为基准，按指标“越高越好/越低越好”的方向，"
        "比中位数差超过阈值（默认10%）为“资源超用”（单位产出占用的资源多于中位科室，或资源产出低于中位科室），"
        "好于中位数超过阈值为“资源低用”，其余为“基本持平”。中位数只用于对比，不显示其他科室的数值；"
        "少于3个科室有数值的指标不设基准。历史对比：去年同期，以及本期开始前12个完整月份的汇总值（比值按分子分母合计计算；"
        "随时间累积的指标如床位周转次数、人均收入按天数折算到本期长度）。年度目标取自年度目标表，累积类指标按天数折算。"
        "月度指标（成本、人力）只计已关账月份，见“统计区间”。维度研判：超用项多于低用项为超用，反之为低用，否则持平。",
        "Rules: the benchmark is the median of the department-level values of all clinical departments of the hospital "
        "for the same period. In the indicator's better direction, worse than the median by more than the tolerance "
        "(default 10%) = over-used (more of the resource per unit of output, or less output from it, than the median "
        "department); better by more than the tolerance = under-used; otherwise in line. Only the median is shown, never "
        "another department's value; with fewer than 3 departments having a value there is no benchmark. History: the "
        "same period last year, and the 12 whole months before the period pooled (ratio of sums; indicators that accrue "
        "with time, such as bed turnover or revenue per FTE, pro-rated by days to the period's length). Targets come from "
        "the annual targets, pro-rated likewise for accruing indicators. Monthly indicators (cost, staff) count closed "
        "months only: see “Covers”. A dimension is over-used when more of its indicators are over- than under-used, "
        "under-used in the opposite case, in line otherwise."),
    "ws.costs.legend": ("颜色：橙色=差于参照（超用），蓝色=好于参照（低用），无色=持平。",
                        "Colour: orange = worse than the reference (over-used), blue = better (under-used), "
                        "plain = in line."),
    "ws.costs.col.category": ("成本类别", "Category"),
    "ws.costs.col.code": ("指标代码", "Code"),
    "ws.costs.col.unit": ("单位", "Unit"),
    "ws.costs.col.window_start": ("区间开始", "From"),
    "ws.costs.col.window_end": ("区间结束", "To"),
    "ws.costs.col.baseline_window": ("基线区间", "Baseline months"),
    "ws.costs.col.tolerance": ("判定阈值", "Tolerance"),
}
