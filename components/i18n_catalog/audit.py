"""Names of the audit log's actions that the sections write (the shell's own are in
components/i18n.py): every code passed to `audit()` has a name here or there, so the admin's
audit page never shows a raw code."""
TEXTS: dict[str, tuple[str, str]] = {
    "action.alert_acknowledged": ("确认预警", "alert acknowledged"),
    "action.alert_resolved": ("预警已解决", "alert resolved"),
    "action.alert_dismissed": ("预警判定为正常波动", "alert dismissed as expected"),
    "action.alert_note": ("添加预警处理记录", "note added to an alert"),
    "action.alerts_scan": ("扫描预警", "alert scan"),
    "action.appraisal_saved": ("保存设备购置论证", "equipment appraisal saved"),
    "action.forbidden_project": ("越权访问改善项目", "project refused"),
    "action.forbidden_report": ("越权访问运营报告", "report refused"),
    "action.project_create": ("创建改善项目", "project created"),
    "action.project_update": ("修改改善项目", "project changed"),
    "action.report_generate": ("生成运营报告", "report generated"),
    "action.report_publish": ("发布运营报告", "report published"),
    "action.report_save": ("保存运营报告", "report saved"),
    "action.other": ("其他操作", "other action"),
}
