// The navigation of the sales office's daily workspace (issue 15); each screen keeps its own messages in its
// own file (reception.ts, pricing.ts, money.ts, customers.ts).
export default {
  zh: {
    nav_reception: "接待登记",
    nav_rotation: "轮序管理",
    nav_partners: "渠道报备",
    nav_subscribe: "认购",
    nav_approvals: "折扣审批",
    nav_finance: "财务台账",
    nav_calendar: "节假日日历",
    nav_customers: "我的客户",
    nav_customer: "客户详情",
  },
  en: {
    nav_reception: "Reception",
    nav_rotation: "Rotation",
    nav_partners: "Partner registrations",
    nav_subscribe: "Subscribe",
    nav_approvals: "Discount approvals",
    nav_finance: "Finance desk",
    nav_calendar: "Holiday calendar",
    nav_customers: "My customers",
    nav_customer: "Customer",
  },
};
