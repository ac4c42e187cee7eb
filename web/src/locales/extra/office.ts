// Messages of the office screens (销控, 预警, 销售统计, 退款指令, 登记二维码) that the shared dictionaries lack.
// The same keys in both languages (src/i18n.test.ts checks).
export default {
  zh: {
    project_switch: "切换项目",
    project: "项目",
    no_projects: "暂无项目",
    no_refunds: "暂无退款指令",
    date: "日期",
    system_actor: "系统",
    chart_desc: "{title}：{items}",
    chart_no_data: "{title}：暂无数据",
    list_sep: "；",
    lock_expired: "{who} 的锁定已超时（{ttl}），自动解锁",
    unit_actions: {
      release: "推盘",
      lock: "锁定",
      unlock: "解锁",
      hold: "保留",
      unhold: "取消保留",
      withdraw: "撤为不可售",
      restore: "恢复可售",
    },
    refund_routes: {
      full: "全额退款（法定）",
      tier: "按政策阶梯比例",
      legal: "转法务",
    },
    refund_statuses: {
      issued: "已下达，待支付",
    },
    case_refs: {
      customer: "客户 #{id}",
      mortgage: "按揭跟进 {id}",
      payment_plan: "付款计划 {id}",
    },
    rule_details: {
      refund_policy_inquiries: "{days} 天内咨询退房政策 {n} 次",
      visits_dropped_no_appointment: "来访 {before} → {recent}，无后续预约",
      mortgage_documents_late: "按揭资料逾期 {n} 个工作日",
      litigation_threat: "{date} 记录扬言诉讼",
    },
  },
  en: {
    project_switch: "Switch project",
    project: "Project",
    no_projects: "No projects",
    no_refunds: "No refund instructions",
    date: "Date",
    system_actor: "System",
    chart_desc: "{title}: {items}",
    chart_no_data: "{title}: no data",
    list_sep: "; ",
    lock_expired: "The lock by {who} expired after {ttl}",
    unit_actions: {
      release: "Released",
      lock: "Locked",
      unlock: "Unlocked",
      hold: "Held",
      unhold: "Hold lifted",
      withdraw: "Withdrawn from sale",
      restore: "Back on sale",
    },
    refund_routes: {
      full: "Full refund (by law)",
      tier: "Policy tier",
      legal: "Legal route",
    },
    refund_statuses: {
      issued: "Issued, to be paid",
    },
    case_refs: {
      customer: "Customer #{id}",
      mortgage: "Mortgage follow-up {id}",
      payment_plan: "Payment plan {id}",
    },
    rule_details: {
      refund_policy_inquiries: "{n} refund-policy inquiries within {days} days",
      visits_dropped_no_appointment: "visits {before} → {recent}, no next appointment",
      mortgage_documents_late: "documents {n} working days late",
      litigation_threat: "litigation threat recorded {date}",
    },
  },
};
