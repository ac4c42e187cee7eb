// The signed-in person (Pinia). The access token lives minutes; the refresh token gets the next one
// (each works once: the answer carries its successor). Kept in sessionStorage: a tab's sign-in ends
// with the tab, and another person on the same phone starts from the sign-in page.
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { mayDo, type Me } from "@/lib/access";

export interface SessionUser {
  username: string;
  role: string;
  name: string;
}

export interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  username: string;
  role: string;
  display_name: string;
}

const KEYS = { token: "ef.token", refresh: "ef.refresh", user: "ef.user", me: "ef.me", project: "ef.project" } as const;

function read(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function readJson<T>(key: string): T | null {
  try {
    return JSON.parse(read(key) ?? "null");
  } catch {
    return null;
  }
}

export const useSession = defineStore("session", () => {
  const token = ref<string | null>(read(KEYS.token));
  const refreshToken = ref<string | null>(read(KEYS.refresh));
  const user = ref<SessionUser | null>(readJson<SessionUser>(KEYS.user));
  /** GET /api/me: the person's memberships, projects and permitted actions (what the screens show). */
  const me = ref<Me | null>(readJson<Me>(KEYS.me));
  /** The project the person is working in (the header's switcher), for screens whose address names none. */
  const projectId = ref<number | null>(readJson<number>(KEYS.project));
  let refreshing: Promise<boolean> | null = null;

  const signedIn = computed(() => !!token.value && !!user.value);
  const role = computed(() => user.value?.role ?? null);

  function set(answer: TokenAnswer): void {
    token.value = answer.access_token;
    refreshToken.value = answer.refresh_token;
    user.value = { username: answer.username, role: answer.role, name: answer.display_name || answer.username };
    sessionStorage.setItem(KEYS.token, answer.access_token);
    sessionStorage.setItem(KEYS.refresh, answer.refresh_token);
    sessionStorage.setItem(KEYS.user, JSON.stringify(user.value));
  }

  function setMe(answer: Me): void {
    me.value = answer;
    sessionStorage.setItem(KEYS.me, JSON.stringify(answer));
  }

  function setProject(id: number | null): void {
    projectId.value = id;
    if (id === null) sessionStorage.removeItem(KEYS.project);
    else sessionStorage.setItem(KEYS.project, JSON.stringify(id));
  }

  function clear(): void {
    token.value = refreshToken.value = user.value = me.value = projectId.value = null;
    for (const key of Object.values(KEYS)) sessionStorage.removeItem(key);
  }

  /** One refresh at a time: concurrent 401s wait for the same one. True when a new token was obtained. */
  function refresh(): Promise<boolean> {
    const current = refreshToken.value;
    if (!current) return Promise.resolve(false);
    refreshing ??= fetch("/api/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: current }),
    })
      .then(async (res) => {
        if (!res.ok) return false;
        set(await res.json());
        return true;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  /** End the session on the server (best effort) and forget it here. */
  async function signOut(): Promise<void> {
    const current = refreshToken.value;
    clear();
    if (!current) return;
    try {
      await fetch("/api/auth/sign-out", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: current }),
      });
    } catch {
      /* offline: the session still ends at its idle limit */
    }
  }

  /** May the person do `what` somewhere (in `projectId` when given)? The server's answer (/api/me). */
  const may = (what: string, projectId?: number | null) => mayDo(me.value, what, projectId);

  return { token, refreshToken, user, me, projectId, signedIn, role, set, setMe, setProject, clear, refresh, signOut, may };
});
