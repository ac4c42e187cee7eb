// Chinese first, English on a switch. Keys are shared; a missing English key falls back to Chinese.
export const MESSAGES = {
  zh: {
    app: "EstateFlow 案场", skip: "跳到正文", lang_switch: "English", signout: "退出",
    nav_home: "待办", nav_intake: "退房登记", nav_cases: "退房案件", nav_board: "销控", nav_warnings: "预警",
    nav_stats: "销售统计", nav_policy: "退房政策公示", nav_refunds: "退款指令", nav_qr: "登记二维码",
    login_title: "登录", username: "用户名", password: "密码", login: "登录", login_failed: "用户名或密码错误",
    required: "此项必填", invalid_money: "请输入金额，最多两位小数，例如 12000.50", invalid_share: "请输入 0 到 1 之间的比例，例如 0.65",
    invalid_mobile: "手机号应为 11 位数字，以 1 开头", invalid_id: "证件号格式不正确（18 位身份证号，末位可为 X）",
    choose_one: "请至少选择一项", choose_two: "请至少提供两个不同的方案",
    refused: "操作被拒绝", conflict: "状态冲突", invalid: "输入有误", not_found: "未找到", error: "出错了", saved: "已提交",
    loading: "加载中…", none: "无", yes: "是", no: "否", submit: "提交", back: "返回", open: "打开", close: "关闭", refresh: "刷新",
    loss_revision: "修订经济损失", session_expired: "登录已过期，请重新登录", offline: "连接中断", open_cases: "只看进行中", all_cases: "全部案件", period: "统计周期",
    nav_label: "主菜单",
    my_tasks: "我的待办", no_tasks: "暂无待办", due: "截止", remaining: "剩余", overdue_by: "已超时", no_deadline: "无时限",
    hello: "您好，{name}", role: "角色",
    roles: { frontdesk: "前台", sales: "置业顾问", manager: "案场经理", finance: "财务", legal: "法务", marketing: "营销",
      citygm: "城市公司总经理", hqrisk: "总部风控", ops: "运营" },
    kinds: { intake: "信息采集（30 分钟）", assessment: "联合评估（2 小时）", gm_approval: "城市总经理审批", solution: "制定方案（4 小时）",
      choice: "记录客户选择", contract_cancellation: "网签撤销确认", archive: "归档复盘（24 小时）", escalation: "超时升级处理",
      review_meeting: "复盘会", refund_payment: "退款支付" },
    stages: { intake: "信息采集", assessment: "联合评估", gm_approval: "总经理审批", solution: "制定方案", choice: "客户选择",
      contract_cancellation: "网签撤销", archive: "归档复盘", closed: "已结案" },
    states: { not_released: "未推", available: "可售", locked: "锁定", subscribed: "已认购", signed: "已签约", filed: "已备案",
      delivered: "已交付", held: "保留", refunding: "退房中", not_for_sale: "不可售" },
    reasons: { family_disagreement: "家庭意见不统一", funds_shortfall: "资金不足", competitor_comparison: "竞品比较", other: "其他" },
    willing: { yes: "愿意考虑其他方案", no: "不考虑", negotiate: "待协商" },
    faults: { buyer: "买方原因（无开发商过错）", neither: "双方均无过错（如限购政策变化）", developer: "开发商过错（转法务）" },
    risks: { low: "低", medium: "中", high: "高" },
    options: { A: "A 继续履约 + 挽留补偿", B: "B 解约 + 阶梯退款", C: "C 转让他人 + 手续费减免" },
    depts: { finance: "财务", legal: "法务", marketing: "营销" },
    // intake
    intake_title: "突发退房登记", intake_find: "查找房号", intake_find_hint: "输入房号，例如 101 或 1号楼-101", search: "查找",
    intake_no_sub: "该房源没有有效认购，无需退房", intake_open_case: "该认购已有进行中的退房案件", intake_register: "登记退房申请",
    intake_registered: "已登记，30 分钟内完成信息采集", intake_clock: "信息采集剩余时间", unit: "房号", customer: "客户",
    subscribed_at: "认购时间", sub_stage: "合同状态", deposit: "定金/订金", paid: "已付", price: "总价", consultant: "置业顾问",
    id_number: "证件号码（扫描或输入）", mobile: "手机号（电话核验）", main_reasons: "主要原因（可多选）", reason_text: "原因说明",
    willing_label: "是否愿意考虑其他方案（口头确认并录音）", recording_ref: "录音编号", intake_submit: "上传登记表",
    id_scan: "证件扫描件", evidence: "证据材料", upload: "上传", file_type_bad: "仅支持 PDF、JPEG、PNG、WebP", file_too_big: "文件不能超过 {mb} MB",
    uploaded: "已上传", no_files: "暂无文件",
    // case
    case: "案件", cases: "退房案件", stage: "阶段", registered_at: "登记时间", deadlines: "时限", escalation: "升级",
    escalated_because: "升级原因", needs_gm: "需城市总经理审批", options_offered: "提供的方案", chosen: "客户选择", outcome: "结果",
    timeline: "时间线", temporal_link: "在 Temporal UI 中查看工作流", loss_total: "经济损失合计", refund_amount: "退款金额",
    refund_preview: "按政策测算的退款", refund_share: "退款比例", refund_base: "退款基数", opinions: "各部门意见", not_yet: "尚未提交",
    open_tasks: "进行中的任务", retain_until: "档案保留至", closed_at: "结案时间", task_for_other: "此任务属于{role}，您无权处理",
    case_summary: "案件摘要", escalation_level: "超时升级级别", event: "事件", share_short: "建议退款比例", path: "路径",
    events: { evidence_uploaded: "上传证据", intake: "信息采集", assessment: "联合评估", gm_decision: "总经理决定", solution: "提供方案",
      choice: "客户选择", archive: "归档", sla_breach: "超时", loss_revision: "损失修订", contract_cancellation: "网签撤销", registered: "登记",
      origin: "来源" },
    // forms
    commission: "已计提佣金", advertising: "广告费分摊", opportunity: "机会成本", proposed_share: "建议退款比例（0–1）",
    contract_confirmed: "合同状态已核实（定金/网签/按揭）", note: "意见", fault: "过错认定", opinion_risk: "舆情风险",
    media: "媒体介入", group_complaint: "可能群诉", approve: "批准现场方案", reject: "不批准（转法务）", gm_note: "审批意见",
    offer_options: "方案（至少两个）", description: "说明", compensation: "补偿金额（元）", fee_waiver: "减免手续费",
    buyer_choice: "客户选择的方案", new_customer: "接盘客户编号（方案 C）", summary: "案件总结（入知识库）", lessons: "改进建议",
    mark_done: "标记完成", cancel_confirm: "确认网签已撤销",
    // board
    board_title: "销控表", building: "楼栋", all: "全部", filter_state: "按状态筛选", floor: "楼层", history: "房源变更记录",
    live: "实时更新", export_xlsx: "导出 XLSX", from_state: "原状态", to_state: "新状态", by: "操作人", at: "时间", reason: "原因",
    // warnings
    warnings_title: "预警", level: "级别", rule: "触发规则", response_due: "响应时限", respond_role: "响应人", escalate_to: "升级至",
    rules: { refund_policy_inquiries: "多次咨询退房政策", visits_dropped_no_appointment: "来访骤减且无后续预约",
      mortgage_documents_late: "按揭资料逾期", litigation_threat: "扬言诉讼" },
    levels: { yellow: "黄色", orange: "橙色", red: "红色" }, no_warnings: "暂无未处理预警", respond: "响应", response_note: "响应说明",
    responded: "已响应", open_warnings: "未处理预警", pending_refunds: "退款指令",
    // stats
    stats_title: "销售统计", today: "今日", week: "本周", month: "本月", calls: "来电", visits: "来访（组）", first_visits: "首访",
    repeat_visits: "复访", effective: "有效客户", subs: "认购", subs_amount: "认购金额", contracts: "签约", contracts_amount: "签约金额",
    collections: "回款", refunds: "退款", net: "净额", conversion_vs: "来访→认购", conversion_sc: "认购→签约", refund_rate: "退房率",
    sell_through: "去化率（按户型）", layout: "户型", released: "已推", sold: "已售", rate: "去化率", over_time: "认购与签约走势",
    collections_chart: "每日回款", cancelled: "退订", net_count: "净认购",
    // policy
    policy_title: "退房政策公示", version: "版本", approved_by: "批准", published_at: "发布时间", tier_stage: "阶段", tier_share: "可退比例",
    tier_note: "说明", print: "打印", tier_stages: { deposit_paid: "已付定金未网签", online_signed: "已网签未放贷", loan_disbursed: "已放贷未交房" },
    policy_rules: "规则", sla: "处理时限", minutes: "{n} 分钟", threshold: "升级阈值",
    // refunds
    refunds_title: "退款指令", amount: "金额", share: "比例", route: "路径", status: "状态", created_at: "创建时间",
    // qr
    qr_title: "前台退房登记二维码", qr_hint: "客户到访后，前台用手机扫码打开登记页。",
  },
  en: {
    app: "EstateFlow sales office", skip: "Skip to content", lang_switch: "中文", signout: "Sign out",
    nav_home: "To do", nav_intake: "Register refund", nav_cases: "Refund cases", nav_board: "Inventory", nav_warnings: "Warnings",
    nav_stats: "Sales stats", nav_policy: "Refund policy", nav_refunds: "Refund instructions", nav_qr: "Intake QR",
    login_title: "Sign in", username: "Username", password: "Password", login: "Sign in", login_failed: "Wrong username or password",
    required: "Required", invalid_money: "Enter an amount with at most two decimals, e.g. 12000.50", invalid_share: "Enter a share between 0 and 1, e.g. 0.65",
    invalid_mobile: "A mobile number has 11 digits and starts with 1", invalid_id: "The ID number is not valid (18 characters, the last may be X)",
    choose_one: "Choose at least one", choose_two: "Offer at least two different options",
    refused: "Not allowed", conflict: "Conflict", invalid: "Invalid input", not_found: "Not found", error: "Error", saved: "Submitted",
    loading: "Loading…", none: "None", yes: "Yes", no: "No", submit: "Submit", back: "Back", open: "Open", close: "Close", refresh: "Refresh",
    loss_revision: "Revise the economic loss", session_expired: "Your session has expired; sign in again", offline: "offline", open_cases: "Open cases only", all_cases: "All cases",
    period: "Period", nav_label: "Main menu",
    my_tasks: "My tasks", no_tasks: "Nothing to do", due: "Due", remaining: "left", overdue_by: "overdue by", no_deadline: "no deadline",
    hello: "Hello, {name}", role: "Role",
    roles: { frontdesk: "Front desk", sales: "Sales consultant", manager: "Site manager", finance: "Finance", legal: "Legal", marketing: "Marketing",
      citygm: "City GM", hqrisk: "HQ risk control", ops: "Operations" },
    kinds: { intake: "Intake (30 min)", assessment: "Joint assessment (2 h)", gm_approval: "City GM approval", solution: "Solution (4 h)",
      choice: "Record the buyer's choice", contract_cancellation: "Confirm online contract cancelled", archive: "Archive and review (24 h)",
      escalation: "SLA escalation", review_meeting: "Review meeting", refund_payment: "Pay the refund" },
    stages: { intake: "Intake", assessment: "Assessment", gm_approval: "GM approval", solution: "Solution", choice: "Buyer's choice",
      contract_cancellation: "Contract cancellation", archive: "Archive", closed: "Closed" },
    states: { not_released: "Not released", available: "Available", locked: "Locked", subscribed: "Subscribed", signed: "Signed", filed: "Filed",
      delivered: "Delivered", held: "Held", refunding: "Refunding", not_for_sale: "Not for sale" },
    reasons: { family_disagreement: "Family disagreement", funds_shortfall: "Funds shortfall", competitor_comparison: "Competitor comparison", other: "Other" },
    willing: { yes: "Would consider alternatives", no: "Would not", negotiate: "To negotiate" },
    faults: { buyer: "Buyer-initiated (no developer fault)", neither: "Neither at fault (e.g. policy change)", developer: "Developer fault (legal)" },
    risks: { low: "Low", medium: "Medium", high: "High" },
    options: { A: "A continue + compensation", B: "B cancel + tiered refund", C: "C transfer + fee waiver" },
    depts: { finance: "Finance", legal: "Legal", marketing: "Marketing" },
    intake_title: "Refund request", intake_find: "Find the unit", intake_find_hint: "Unit number, e.g. 101 or 1号楼-101", search: "Search",
    intake_no_sub: "This unit has no active subscription: nothing to refund", intake_open_case: "This subscription already has an open case",
    intake_register: "Register the refund request", intake_registered: "Registered: finish the intake within 30 minutes", intake_clock: "Intake time left",
    unit: "Unit", customer: "Buyer", subscribed_at: "Subscribed", sub_stage: "Contract state", deposit: "Deposit", paid: "Paid", price: "Price",
    consultant: "Consultant", id_number: "ID number (scan or type)", mobile: "Mobile (phone verification)", main_reasons: "Main reasons",
    reason_text: "Details", willing_label: "Would the buyer consider alternatives? (confirmed verbally, recorded)", recording_ref: "Recording reference",
    intake_submit: "Upload the form", id_scan: "ID scan", evidence: "Evidence", upload: "Upload", file_type_bad: "PDF, JPEG, PNG or WebP only",
    file_too_big: "Files may be at most {mb} MB", uploaded: "Uploaded", no_files: "No files yet",
    case: "Case", cases: "Refund cases", stage: "Stage", registered_at: "Registered", deadlines: "Deadlines", escalation: "Escalation",
    escalated_because: "Escalated because", needs_gm: "Needs the city GM", options_offered: "Options offered", chosen: "Buyer chose", outcome: "Outcome",
    timeline: "Timeline", temporal_link: "Open the workflow in the Temporal UI", loss_total: "Economic loss", refund_amount: "Refund",
    refund_preview: "Refund under the policy", refund_share: "Share", refund_base: "Base", opinions: "Departments' opinions", not_yet: "not yet",
    open_tasks: "Open tasks", retain_until: "Records kept until", closed_at: "Closed", task_for_other: "This task is for {role}; you may not act on it",
    case_summary: "Case summary", escalation_level: "SLA escalation level", event: "Event", share_short: "Proposed share", path: "Path",
    events: { evidence_uploaded: "Evidence uploaded", intake: "Intake", assessment: "Assessment", gm_decision: "GM decision", solution: "Options offered",
      choice: "Buyer's choice", archive: "Archived", sla_breach: "Deadline missed", loss_revision: "Loss revised", contract_cancellation: "Contract cancelled",
      registered: "Registered", origin: "Origin" },
    commission: "Commission accrued", advertising: "Advertising allocation", opportunity: "Opportunity cost", proposed_share: "Proposed refund share (0–1)",
    contract_confirmed: "Contract state confirmed (deposit / online signing / loan)", note: "Opinion", fault: "Fault", opinion_risk: "Public-opinion risk",
    media: "Media involved", group_complaint: "Group complaint likely", approve: "Approve the site solution", reject: "Reject (legal route)",
    gm_note: "Decision note", offer_options: "Options (at least two)", description: "Description", compensation: "Compensation (CNY)",
    fee_waiver: "Waive the fee", buyer_choice: "The buyer's choice", new_customer: "Replacement buyer id (option C)",
    summary: "Case summary (knowledge base)", lessons: "Lessons", mark_done: "Mark done", cancel_confirm: "Confirm the online contract is cancelled",
    board_title: "Inventory board", building: "Building", all: "All", filter_state: "Filter by state", floor: "Floor", history: "Unit history",
    live: "live", export_xlsx: "Export XLSX", from_state: "From", to_state: "To", by: "By", at: "At", reason: "Reason",
    warnings_title: "Warnings", level: "Level", rule: "Rule", response_due: "Respond by", respond_role: "Responder", escalate_to: "Escalates to",
    rules: { refund_policy_inquiries: "Repeated refund-policy inquiries", visits_dropped_no_appointment: "Visits dropped, no appointment",
      mortgage_documents_late: "Mortgage documents late", litigation_threat: "Litigation threat" },
    levels: { yellow: "Yellow", orange: "Orange", red: "Red" }, no_warnings: "No open warnings", respond: "Respond", response_note: "Response",
    responded: "Responded", open_warnings: "Open warnings", pending_refunds: "Refund instructions",
    stats_title: "Sales statistics", today: "Today", week: "This week", month: "This month", calls: "Calls", visits: "Visits (groups)",
    first_visits: "First visits", repeat_visits: "Repeat visits", effective: "Effective customers", subs: "Subscriptions", subs_amount: "Subscribed amount",
    contracts: "Contracts", contracts_amount: "Contract amount", collections: "Collections", refunds: "Refunds", net: "Net",
    conversion_vs: "Visit → subscription", conversion_sc: "Subscription → contract", refund_rate: "Refund rate", sell_through: "Sell-through by layout",
    layout: "Layout", released: "Released", sold: "Sold", rate: "Rate", over_time: "Subscriptions and contracts", collections_chart: "Collections per day",
    cancelled: "Cancelled", net_count: "Net subscriptions",
    policy_title: "Refund policy (public notice)", version: "Version", approved_by: "Approved by", published_at: "Published", tier_stage: "Stage",
    tier_share: "Refundable share", tier_note: "Note", print: "Print",
    tier_stages: { deposit_paid: "Deposit paid, not signed", online_signed: "Signed, loan not disbursed", loan_disbursed: "Loan disbursed, not delivered" },
    policy_rules: "Rules", sla: "Time limits", minutes: "{n} min", threshold: "Escalation threshold",
    refunds_title: "Refund instructions", amount: "Amount", share: "Share", route: "Route", status: "Status", created_at: "Created",
    qr_title: "Front-desk refund intake QR code", qr_hint: "The front desk scans it with a phone to open the intake page.",
  },
};

// The API speaks English; the messages a person meets most often are translated here (prefix match).
export const SERVER_ZH = [
  ["the ID number does not match the buyer on record", "证件号与认购客户记录不符"],
  ["the mobile number does not match the buyer on record", "手机号与认购客户记录不符"],
  ["not signed in or the session has expired", "未登录或登录已过期，请重新登录"],
  ["wrong username or password", "用户名或密码错误"],
  ["may not do this", "当前角色无权执行此操作"],
  ["this task is for ", "此任务不属于您的角色"],
  ["four-eyes", "四眼原则：同一人不得既经办又审批"],
  ["has no active subscription", "该房源没有有效认购"],
  ["already has an open refund case", "该认购已有进行中的退房案件"],
  ["media involvement", "媒体介入"],
  ["refund share above the published tier", "退款比例高于公示的阶梯上限"],
];

// Escalation reasons as the domain words them, in Chinese.
export function reasonText(r) {
  if (getLang() !== "zh") return r;
  const m = /^loss ([\d.]+) CNY exceeds ([\d.]+) CNY$/.exec(r);
  if (m) return `经济损失 ${m[1]} 元，超过 ${m[2]} 元`;
  const hit = SERVER_ZH.find(([en]) => r === en);
  return hit ? hit[1] : r;
}

let lang = localStorage.getItem("ef.lang") || "zh";
export const getLang = () => lang;
export function setLang(l) { lang = l; localStorage.setItem("ef.lang", l); document.documentElement.lang = l === "zh" ? "zh-CN" : "en"; }

function lookup(dict, key) { return key.split(".").reduce((o, k) => (o == null ? undefined : o[k]), dict); }

export function t(key, params = {}) {
  let s = lookup(MESSAGES[lang], key);
  if (s === undefined) s = lookup(MESSAGES.zh, key);
  if (s === undefined) return key;
  return String(s).replace(/\{(\w+)\}/g, (_, k) => (params[k] ?? ""));
}

export function serverMessage(detail) {
  if (lang !== "zh" || !detail) return detail;
  for (const [en, zh] of SERVER_ZH) if (detail.includes(en)) return `${zh}（${detail}）`;
  return detail;
}
