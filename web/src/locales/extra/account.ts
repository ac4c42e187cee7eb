// Messages of the person's own account: the password change.
export default {
  zh: {
    password_title: "修改密码",
    password_must_change: "管理员为您设置了临时密码：请先设置您自己的密码",
    password_current: "当前密码",
    password_new: "新密码（至少 8 位）",
    password_again: "再次输入新密码",
    password_too_short: "新密码至少 8 位",
    password_same: "新密码不能与当前密码相同",
    password_mismatch: "两次输入的新密码不一致",
    nav_password: "修改密码",
  },
  en: {
    password_title: "Change password",
    password_must_change: "An administrator set a temporary password: choose your own first",
    password_current: "Current password",
    password_new: "New password (at least 8 characters)",
    password_again: "New password again",
    password_too_short: "The new password needs at least 8 characters",
    password_same: "The new password must differ from the current one",
    password_mismatch: "The two new passwords differ",
    nav_password: "Change password",
  },
};
