// Form drafts: what a person typed survives a language switch, a reload and a session that expired
// mid-form (they sign in again and find it). Kept per person in sessionStorage, so another person signing
// in on the same phone never sees it; cleared when the form is sent and when the person signs out.

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  readonly length: number;
  key(index: number): string | null;
}

const PREFIX = "ef.draft.";

export function draftKey(username: string, form: string): string {
  return `${PREFIX}${username}.${form}`;
}

/** The saved draft laid over `initial`: only the fields `initial` has, and only values of the same type. */
export function loadDraft<T extends object>(store: KeyValueStore, key: string, initial: T): T {
  const out = structuredClone(initial);
  let saved: Record<string, unknown> = {};
  try {
    saved = JSON.parse(store.getItem(key) ?? "{}") ?? {};
  } catch {
    return out;
  }
  for (const [field, value] of Object.entries(saved)) {
    if (!(field in out)) continue;
    const current = (out as Record<string, unknown>)[field];
    if (Array.isArray(current) ? Array.isArray(value) : typeof current === typeof value || current === null) {
      (out as Record<string, unknown>)[field] = value;
    }
  }
  return out;
}

/** Save a draft; an unchanged (initial) form is removed rather than kept. */
export function saveDraft<T extends object>(store: KeyValueStore, key: string, value: T, initial: T): void {
  if (JSON.stringify(value) === JSON.stringify(initial)) store.removeItem(key);
  else store.setItem(key, JSON.stringify(value));
}

/** Remove every draft of one person (sign-out), or of everyone. */
export function clearDrafts(store: KeyValueStore, username?: string): number {
  const prefix = username ? `${PREFIX}${username}.` : PREFIX;
  const doomed: string[] = [];
  for (let i = 0; i < store.length; i++) {
    const key = store.key(i);
    if (key?.startsWith(prefix)) doomed.push(key);
  }
  doomed.forEach((key) => store.removeItem(key));
  return doomed.length;
}
