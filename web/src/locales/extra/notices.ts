// Messages of the notification centre.
export default {
  zh: {
    nav_notices: "通知",
    notices_unread: "条未读",
    notices_title: "我的通知",
    notices_read_all: "全部标为已读",
    notices_none: "暂无通知",
    notices_new: "【未读】",
    notices_more: "更早的通知",
  },
  en: {
    nav_notices: "Notifications",
    notices_unread: "unread",
    notices_title: "My notifications",
    notices_read_all: "Mark all read",
    notices_none: "No notifications",
    notices_new: "[new]",
    notices_more: "Older notifications",
  },
};
