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
  ]
]
