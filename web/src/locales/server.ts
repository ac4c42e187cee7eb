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
