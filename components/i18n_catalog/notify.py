"""Texts of alert delivery: the messages (chat robots, email), the subscription form (the
Notifications page and the admin page's section) and the alert page's delivery list."""
TEXTS: dict[str, tuple[str, str]] = {
    # messages
    "notify.alert_heading": ("【{level}预警】{dept} · {indicator} · {period}", "[{level} alert] {dept} · {indicator} · {period}"),
    "notify.alert_subject": ("{heading}", "{heading}"),
    "notify.digest_subject": ("运营预警晨报 {date}：{n} 条新预警", "Alerts digest {date}: {n} new"),
    "notify.digest_intro": ("自上次晨报以来，您订阅的科室新增 {n} 条预警：",
                            "{n} new alert(s) in your departments since the last digest:"),
    "notify.escalation_subject_1": ("【升级至科主任】{heading}", "[Escalated to the director] {heading}"),
    "notify.escalation_subject_2": ("【升级至院领导】{heading}", "[Escalated to the leadership] {heading}"),
    "notify.escalation_intro_1": ("该红色预警已 {days} 个工作日未确认，按规定升级至科主任。",
                                  "This red alert has not been acknowledged for {days} working days and is escalated "
                                  "to the department's director."),
    "notify.escalation_intro_2": ("该红色预警已 {days} 个工作日未确认，按规定升级至院区（医院）领导。",
                                  "This red alert has not been acknowledged for {days} working days and is escalated "
                                  "to the campus (hospital) leadership."),
    "notify.z": ("z 值 {z}", "z = {z}"),
    "notify.cause": ("原因", "Cause"),
    "notify.open": ("打开预警", "Open the alert"),
    "notify.footer": ("此消息由医院运营决策驾驶舱按您的订阅发送；在“消息订阅”页面可修改或停止订阅。",
                      "Sent by the Hospital Operations Dashboard as you subscribed; change or stop it on the "
                      "Notifications page."),
    # the page and the form
    "notify.title": ("消息订阅", "Notifications"),
    "notify.intro": ("选择哪些预警通过企业微信、钉钉、飞书群机器人或电子邮件发给您。您只会收到您数据范围内的预警。"
                     "所订阅科室发布的月度运营报告也会发给您（邮件附PDF，群机器人为报告链接）。",
                     "Choose which alerts reach you through a WeCom, DingTalk or Feishu group robot or by email. "
                     "You only ever receive alerts within your own scope. The monthly reports published for the "
                     "departments you subscribe to reach you too (by email as a PDF, to a robot as a link)."),
    "notify.all_depts": ("我范围内的全部科室（含以后新增）", "All departments in my scope (now and later)"),
    "notify.depts": ("科室", "Departments"),
    "notify.depts_placeholder": ("选择科室", "Choose departments"),
    "notify.levels": ("预警级别", "Alert levels"),
    "notify.mode": ("发送方式", "When"),
    "notify.mode.immediate": ("即时发送", "At once"),
    "notify.mode.digest": ("每日晨报", "Morning digest"),
    "notify.mode_help": ("红色预警总是即时发送；晨报每天早上汇总一次其余新预警。",
                         "Red alerts always go out at once; the digest gathers the other new alerts each morning."),
    "notify.lang": ("消息语言", "Language of the messages"),
    "notify.channels": ("接收渠道", "Channels"),
    "notify.channels_help": ("填入群机器人的网址（在群设置 → 群机器人中复制，须为加密网址）；留空即不使用该渠道。",
                             "Paste a group robot's webhook address (copy it from the group's robot settings; it must "
                             "be https); leave a channel empty not to use it."),
    "notify.channel.wecom": ("企业微信群机器人", "WeCom group robot"),
    "notify.channel.dingtalk": ("钉钉群机器人", "DingTalk group robot"),
    "notify.channel.feishu": ("飞书（含国际版）群机器人", "Feishu / Lark group robot"),
    "notify.channel.email": ("电子邮件", "Email"),
    "notify.channel.none": ("未设置渠道", "no channel set"),
    "notify.placeholder.wecom": ("企业微信群机器人的网址", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"),
    "notify.placeholder.dingtalk": ("钉钉群机器人的网址", "https://oapi.dingtalk.com/robot/send?…"),
    "notify.placeholder.feishu": ("飞书群机器人的网址", "https://open.feishu.cn/open-apis/bot/v2/hook/…"),
    "notify.placeholder.email": ("邮箱地址", "name@hospital.org"),
    "notify.lang.zh": ("中文", "Chinese"),
    "notify.lang.en": ("英文", "English"),
    "notify.save": ("保存订阅", "Save"),
    "notify.saved": ("订阅已保存。", "Your subscription is saved."),
    "notify.saved_for": ("已保存 {username} 的订阅。", "Saved the subscription of {username}."),
    "notify.problems": ("有字段需要修改，订阅未保存。", "Some fields need changing; nothing was saved."),
    "notify.none_yet": ("尚未订阅：保存后生效。", "No subscription yet: it starts when you save."),
    "notify.err.not_url": ("这不是一个网址：请粘贴群机器人设置中给出的完整地址（https:// 开头）。",
                           "This is not a web address: it starts with https://, e.g. https://qyapi.weixin.qq.com/…"),
    "notify.err.not_https": ("地址须为 https（http 只允许本机 127.0.0.1 或 localhost）。",
                             "The address must be https (plain http only for this machine: 127.0.0.1 or localhost)."),
    "notify.err.bad_robot": ("这不是该渠道群机器人的地址，或缺少其中的密钥参数。",
                             "This is not this channel's robot address, or it lacks its key or access_token."),
    "notify.err.bad_email": ("邮箱地址格式不正确，应形如 姓名拼音@医院域名。",
                             "This is not an email address (e.g. name@hospital.org)."),
    "notify.err.dept_scope": ("所选科室不在您的数据范围内。", "A department chosen is outside the scope."),
    "notify.err.depts_required": ("请选择科室，或勾选“全部科室”。", "Choose departments, or tick “All departments”."),
    "notify.err.levels_required": ("请至少选择一个预警级别。", "Choose at least one level."),
    "notify.err.too_long": ("内容过长（最多 {high} 个字符）。", "Too long (at most {high} characters)."),
    "notify.err.not_choice": ("请从选项中选择。", "Choose one of the options."),
    "notify.err.missing": ("此项必填。", "This is needed."),
    "notify.err.not_text": ("此项应为文字。", "This must be text."),
    "notify.err.invalid": ("此项无效。", "This value is not valid."),
    "notify.err.stale": ("订阅已被他人修改，请刷新页面后再试。", "Someone else changed this subscription: reload and try again."),
    "notify.admin_title": ("所选用户的消息订阅", "Notifications of the selected user"),
    "notify.admin_help": ("代所选用户设置预警订阅；科室只能在该用户的数据范围内选择。管理员本人不接收预警。",
                          "Set the selected user's alert subscription; departments only within that user's scope. "
                          "Administrators themselves receive no alerts."),
    "notify.admin_pick": ("请在上方选择一个院领导、科主任或运营助理。", "Pick a leader, director or assistant above."),
    # the alert page's delivery list
    "notify.delivered": ("已发送", "Delivered"),
    "notify.delivered_none": ("尚未发送任何消息。", "No message sent yet."),
    "notify.kind.alert": ("即时", "immediate"),
    "notify.kind.digest": ("晨报", "digest"),
    "notify.kind.escalation": ("升级", "escalation"),
    "notify.status.sent": ("已送达", "sent"),
    "notify.status.retrying": ("待重试", "retrying"),
    "notify.status.failed": ("失败", "failed"),
    "notify.status.gave_up": ("已放弃", "gave up"),
    "notify.attempts": ("尝试 {n} 次", "{n} attempt(s)"),
    "notify.next_try": ("下次重试 {at}", "next try {at}"),
    "action.subscription_saved": ("保存消息订阅", "subscription saved"),
}
TEXTS.update({
    # the alerts page's address: /alerts?alert=<id> (the link in every message)
    "addr.label.alert": ("预警", "alert"),
    "addr.bad.alert_id": ("不是预警编号", "is not an alert number"),
    "addr.bad.alert_scope": ("不存在或不在您的权限范围内", "does not exist or lies outside your scope"),
    "addr.shown.alert_list": ("预警列表", "the alert list"),
})
TEXTS.update({
    # a published monthly report sent to its department's subscribers (docs/alerts.md#monthly-reports)
    "notify.report.subject": ("【月度运营报告】{dept} · {month}", "[Monthly report] {dept} · {month}"),
    "notify.report.intro": ("{dept} {month}运营分析报告（第 {revision} 版）已发布，共 {n} 条问题分析：",
                            "The operations report of {dept} for {month} (revision {revision}) is published, with "
                            "{n} finding(s):"),
    "notify.report.more": ("另有 {n} 条，见报告。", "{n} more in the report."),
    "notify.report.attached": ("报告全文见附件PDF（与打印页面内容一致）。",
                               "The whole report is attached as a PDF (the same content as the printed page)."),
    "notify.report.open": ("打开报告", "Open the report"),
    "notify.report.footer": ("此消息由医院运营决策驾驶舱按您对该科室的消息订阅发送；在“消息订阅”页面可修改或停止订阅。",
                             "Sent by the Hospital Operations Dashboard because you subscribe to this department; "
                             "change or stop it on the Notifications page."),
    "notify.report.send": ("发送给订阅人", "Send to subscribers"),
    "notify.report.send_help": ("以PDF邮件附件（群机器人为报告链接）发给订阅该科室的用户，每人用其订阅语言。",
                                "Sends the report to the department's subscribers, each in their language: by email "
                                "as a PDF, to chat robots as a link."),
    "notify.report.send_draft": ("草稿不能发送：请先发布报告。", "A draft cannot be sent: publish the report first."),
    "notify.report.queued": ("已为 {n} 位订阅人排队发送，几分钟内由消息任务发出；下方列表显示发送状态。",
                             "Queued for {n} subscriber(s); the delivery job sends them within minutes. The list "
                             "below shows how each went."),
    "notify.report.queued_already": ("已为 {n} 位订阅人排队发送；另有 {m} 位已收到或正在发送，不重复发送。",
                                     "Queued for {n} subscriber(s); {m} more have it already or on its way and are "
                                     "not sent it twice."),
    "notify.report.nobody_new": ("该科室的 {m} 位订阅人都已收到或正在发送，未重复发送。",
                                 "All {m} subscriber(s) of the department have it already or on its way: nothing "
                                 "sent twice."),
    "notify.report.nobody": ("该科室还没有订阅人（订阅该科室且设置了渠道的用户），没有发送。",
                             "Nobody subscribes to this department yet (with a channel set): nothing was sent."),
    "notify.report.sent": ("发送给订阅人", "Sent to subscribers"),
    "notify.report.sent_none": ("尚未发送给订阅人。", "Not sent to subscribers yet."),
    "notify.kind.report": ("月度报告", "monthly report"),
    "notify.status.queued": ("待发送", "queued"),
    "action.report_send": ("发送月度报告", "report sent to subscribers"),
})
