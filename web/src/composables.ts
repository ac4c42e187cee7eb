// Small shared pieces of reactive state.
import { onBeforeUnmount, onMounted, reactive, ref, watch, type UnwrapRef } from "vue";
import { clearDrafts, draftKey, loadDraft, saveDraft } from "./lib/drafts";
import { useSession } from "./stores/session";

const now = ref(Date.now());
let ticking = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** The current time, ticking once a second while any component uses it (one timer for all). */
export function useNow() {
  onMounted(() => {
    if (ticking++ === 0) {
      now.value = Date.now();
      timer = setInterval(() => (now.value = Date.now()), 1000);
    }
  });
  onBeforeUnmount(() => {
    if (--ticking === 0) clearInterval(timer);
  });
  return now;
}

/** Run `fn` every `ms` while the component is mounted and the page is visible. */
export function useInterval(fn: () => unknown, ms: number) {
  let handle: ReturnType<typeof setInterval> | undefined;
  onMounted(() => {
    handle = setInterval(() => {
      if (!document.hidden) fn();
    }, ms);
  });
  onBeforeUnmount(() => clearInterval(handle));
}

/** A form whose values are kept as a draft of the signed-in person until `clear()` (after sending). */
export function useDraft<T extends object>(form: string, initial: T) {
  const session = useSession();
  const key = draftKey(session.user?.username ?? "anonymous", form);
  const values = reactive(loadDraft(sessionStorage, key, initial));
  watch(values, () => saveDraft(sessionStorage, key, values as T, initial), { deep: true });
  function clear() {
    Object.assign(values, structuredClone(initial) as UnwrapRef<T>);
    sessionStorage.removeItem(key);
  }
  return { values, clear };
}

export function forgetDrafts(username: string) {
  clearDrafts(sessionStorage, username);
}
