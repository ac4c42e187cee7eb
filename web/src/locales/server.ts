// The API speaks English; the messages a person meets most often are translated (substring match).
export const SERVER_ZH: [string, string][] = [
  [
    "was already completed by",
    "这项任务已经完成"
  ],
  [
    "the ID number does not match the buyer on record",
    "证件号与认购客户记录不符"
  ],
  [
    "the mobile number does not match the buyer on record",
    "手机号与认购客户记录不符"
  ],
  [
    "not signed in or the session has expired",
    "未登录或登录已过期，请重新登录"
  ],
  [
    "wrong username or password",
    "用户名或密码错误"
  ],
  [
    "may not do this",
    "当前角色无权执行此操作"
  ],
  [
    "this task is for ",
    "这项任务不属于您"
  ],
  [
    "change your password first",
    "请先修改密码"
  ],
  [
    "too many failed sign-ins",
    "登录失败次数过多，请稍后再试"
  ],
  [
    "is already claimed by",
    "这项任务已被他人认领"
  ],
  [
    "ask them or the project's manager to release it",
    "这项任务已由他人认领：请对方或项目经理放回任务池"
  ],
  [
    "only a manager of the task's project may reassign it",
    "只有本项目的案场经理可以转派任务"
  ],
  [
    "four eyes: whoever asked for the void may not approve it",
    "四眼原则：申请作废的人不得审批"
  ],
  [
    "whoever recorded the payment may not approve its difference",
    "四眼原则：登记付款的人不得批准其金额差异"
  ],
  [
    "four eyes:",
    "四眼原则：同一人不得既经办又审批"
  ],
  [
    "a withdrawal is no longer possible",
    "案件已有结果，不能再撤回"
  ],
  [
    "it can no longer be voided",
    "案件已有结果，不能再作废"
  ],
  [
    "a void is already waiting for approval",
    "已有作废申请等待审批"
  ],
  [
    "no void is waiting for approval",
    "没有等待审批的作废申请"
  ],
  [
    "there is nothing to return",
    "该部门尚未提交评估，无可退回"
  ],
  [
    "has not given an assessment to correct",
    "尚未提交评估，无可更正"
  ],
  [
    "assessments can no longer be returned",
    "方案已提供，评估不能再退回"
  ],
  [
    "assessments can no longer be corrected",
    "方案已提供，评估不能再更正"
  ],
  [
    "only the assessor who gave this assessment may correct it",
    "只有提交该评估的本人可以更正"
  ],
  [
    "no offer is waiting for the buyer's answer",
    "没有等待客户答复的方案"
  ],
  [
    "in the case's project",
    "您在本案件所属项目中没有相应角色"
  ],
  [
    "give the reason the buyer gave for withdrawing",
    "请填写客户撤回的原因"
  ],
  [
    "give the reason the registration was a mistake",
    "请填写登记有误的原因"
  ],
  [
    "give the reason the assessment is returned",
    "请填写退回原因"
  ],
  [
    "is not a file of this case",
    "所选证据不属于本案件"
  ],
  [
    "the front desk or the manager records a withdrawal",
    "撤回须由前台或案场经理登记"
  ],
  [
    "the site manager asks for a registration to be voided",
    "作废须由案场经理申请"
  ],
  [
    "a manager or the city GM approves a void",
    "作废须由案场经理或城市公司总经理审批"
  ],
  [
    "the site manager returns an assessment",
    "退回评估须由案场经理操作"
  ],
  [
    "four-eyes",
    "四眼原则：同一人不得既经办又审批"
  ],
  [
    "has no active subscription",
    "该房源没有有效认购"
  ],
  [
    "already has an open refund case",
    "该认购已有进行中的退房案件"
  ],
  [
    "media involvement",
    "媒体介入"
  ],
  [
    "refund share above the published tier",
    "退款比例高于公示的阶梯上限"
  ],
  [
    "needs a reason, and a second person approves it",
    "金额与退款指令不一致：需填写原因，并由另一人批准"
  ],
  [
    "give the amount paid",
    "请填写支付金额"
  ],
  [
    "the amount paid must be above zero",
    "支付金额须大于 0"
  ],
  [
    "give the date the bank paid",
    "请填写支付日期"
  ],
  [
    "is in the future",
    "支付日期不能晚于今天"
  ],
  [
    "is before the instruction was issued",
    "支付日期不能早于退款指令开具日"
  ],
  [
    "give the bank's reference",
    "请填写银行流水号"
  ],
  [
    "this case has no refund instruction",
    "本案件没有退款指令"
  ],
  [
    "is already paid",
    "该退款指令已支付"
  ],
  [
    "is already pending_approval",
    "该退款指令的付款已登记，正等待批准差额"
  ],
  [
    "not waiting for an approval",
    "该退款指令没有等待批准的差额"
  ],
  [
    "say what was done about the missed deadline",
    "请填写处理情况"
  ],
  [
    "say how the dispute was handled",
    "请填写处理结果"
  ],
  [
    "list who attended the review meeting",
    "请选择参会人员"
  ],
  [
    "write the meeting's minutes",
    "请填写会议纪要"
  ]
]
