// Small shared pieces of reactive state.
import { nextTick, onBeforeUnmount, onMounted, reactive, ref, watch, type UnwrapRef } from "vue";
import { useI18n } from "vue-i18n";
import { useRoute } from "vue-router";
import { serverMessage } from "./i18n";
import { clearDrafts, draftKey, loadDraft, saveDraft } from "./lib/drafts";
import type { Lang } from "./lib/format";
import { loadProjects, pickProject } from "./lib/projects";
import { messageText, type FieldErrors } from "./lib/taskForms";
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

/** What ties a control to its field's message while the field is in error. */
export type AriaError = { "aria-invalid"?: "true"; "aria-describedby"?: string };

/** The field errors of one form (the element with id `formId`): each field's message in the person's
 * language, the aria attributes that tie a control to its message, and focus on the first field in error. */
export function useFieldErrors(formId: string) {
  const { t, locale } = useI18n();
  const errors = ref<FieldErrors>({});
  const err = (name: string) =>
    messageText(errors.value[name], (key, params) => t(key, params ?? {}), (s) => serverMessage(s, locale.value as Lang));
  const aria = (name: string): AriaError =>
    errors.value[name] ? { "aria-invalid": "true", "aria-describedby": `err-${name}` } : {};
  async function focusFirst() {
    await nextTick();
    const holder = document.getElementById(formId);
    const first = holder?.querySelector<HTMLElement>(".field-error[id^='err-']");
    if (!holder || !first) return;
    holder.querySelector<HTMLElement>(`[name="${first.id.slice("err-".length)}"]`)?.focus();
  }
  return { errors, err, aria, focusFirst };
}

/** The project a screen is about (the header's; ?project= names another) and the screen's first load, run once
 * the project is known. A failure of either is kept in `failure` for the screen's ErrorBanner. */
export function useScreenProject(load: (pid: number) => Promise<void>) {
  const route = useRoute();
  const session = useSession();
  const pid = ref<number | null>(null);
  const failure = ref<unknown>(null);
  onMounted(async () => {
    try {
      pid.value = pickProject(await loadProjects(), route.query.project, session.projectId);
      if (pid.value !== null) await load(pid.value);
    } catch (err) {
      failure.value = err;
    }
  });
  return { pid, failure };
}
