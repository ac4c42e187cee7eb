// The unread count of my notifications, for the header's bell: asked when the app starts and every 30 s
// while a page is visible (a short poll), and set by the notifications screen when it reads them.
import { defineStore } from "pinia";
import { ref } from "vue";

export const useNotices = defineStore("notices", () => {
  const unread = ref(0);
  return { unread };
});
