import { describe, expect, it } from "vitest";
import {
  collectSettings,
  crossesMidnight,
  hhmm,
  inQuiet,
  settingsRefusal,
  settingsValues,
  type SettingsValues,
} from "./noticeSettings";

const base: SettingsValues = { email_on: false, email: "", language: "zh-CN", quiet_start: null, quiet_end: null };

describe("the form from the server's settings", () => {
  it("shows e-mail on when it is a channel, and the quiet period as HH:mm", () => {
    expect(settingsValues({ email: "a@b.cn", channels: ["inapp", "email"], language: "en", quiet_start: "22:00:00", quiet_end: "08:00" }))
      .toEqual({ email_on: true, email: "a@b.cn", language: "en", quiet_start: "22:00", quiet_end: "08:00" });
    expect(settingsValues({ email: null, channels: ["inapp"], language: "zh-CN", quiet_start: null, quiet_end: null })).toEqual(base);
  });

  it("falls back to defaults for anything it does not know", () => {
    expect(settingsValues(null)).toEqual(base);
    expect(settingsValues({ language: "fr" as never, quiet_start: "25:00" }).language).toBe("zh-CN");
    expect(hhmm("25:00")).toBeNull();
    expect(hhmm("7:00")).toBeNull();
    expect(hhmm("07:30:00")).toBe("07:30");
  });
});

describe("the quiet period", () => {
  it("may run past midnight", () => {
    expect(crossesMidnight("22:00", "08:00")).toBe(true);
    expect(crossesMidnight("12:00", "14:00")).toBe(false);
    expect(crossesMidnight(null, "08:00")).toBe(false);
    expect(inQuiet("23:30", "22:00", "08:00")).toBe(true);
    expect(inQuiet("07:59", "22:00", "08:00")).toBe(true);
    expect(inQuiet("08:00", "22:00", "08:00")).toBe(false);
    expect(inQuiet("12:30", "12:00", "14:00")).toBe(true);
    expect(inQuiet("21:59", "22:00", "08:00")).toBe(false);
    expect(inQuiet("10:00", null, null)).toBe(false);
  });
});

describe("saving", () => {
  it("always sends in-app, e-mail only when switched on, the address either way", () => {
    expect(collectSettings(base)).toEqual({
      body: { email: null, channels: ["inapp"], language: "zh-CN", quiet_start: null, quiet_end: null }, errors: {},
    });
    expect(collectSettings({ ...base, email_on: true, email: " li@example.cn ", language: "en", quiet_start: "22:00", quiet_end: "08:00" }).body)
      .toEqual({ email: "li@example.cn", channels: ["inapp", "email"], language: "en", quiet_start: "22:00", quiet_end: "08:00" });
    expect(collectSettings({ ...base, email: "li@example.cn" }).body).toMatchObject({ email: "li@example.cn", channels: ["inapp"] });
  });

  it("asks for an address before e-mail is switched on, and a well-formed one", () => {
    expect(collectSettings({ ...base, email_on: true })).toEqual({ body: null, errors: { email: { key: "nsettings_email_needed" } } });
    expect(collectSettings({ ...base, email: "not-an-address" }).errors).toEqual({ email: { key: "nsettings_email_bad" } });
    expect(collectSettings({ ...base, email_on: true, email: "a b@c.cn" }).errors.email).toEqual({ key: "nsettings_email_bad" });
    expect(collectSettings({ ...base, email: "<a@b.cn>" }).errors.email).toEqual({ key: "nsettings_email_bad" });
  });

  it("asks for both ends of the quiet period, and different ones", () => {
    expect(collectSettings({ ...base, quiet_start: "22:00" }).errors).toEqual({ quiet_end: { key: "nsettings_quiet_both" } });
    expect(collectSettings({ ...base, quiet_end: "08:00" }).errors).toEqual({ quiet_start: { key: "nsettings_quiet_both" } });
    expect(collectSettings({ ...base, quiet_start: "08:00", quiet_end: "08:00" }).errors).toEqual({ quiet_end: { key: "nsettings_quiet_same" } });
    expect(collectSettings({ ...base, quiet_start: "8:00", quiet_end: "09:00" }).errors).toEqual({ quiet_start: { key: "nsettings_time_bad" } });
  });
});

describe("the server's refusals", () => {
  it("go to the fields they name (the e-mail channel's to the address)", () => {
    const err = { status: 422, message: "…", errors: [
      { field: "body.email", message: "value is not a valid email address" },
      { field: "body.quiet_end", message: "must differ from quiet_start" },
    ] };
    expect(settingsRefusal(err)).toEqual({
      email: { server: "value is not a valid email address", invalid: true },
      quiet_end: { server: "must differ from quiet_start", invalid: true },
    });
    expect(settingsRefusal({ status: 422, message: "x", errors: [{ field: "body.channels", message: "e-mail needs an address" }] }))
      .toEqual({ email: { server: "e-mail needs an address", invalid: true } });
    // as api/routes/notifications.py words them: two problems, the first one per field
    expect(settingsRefusal({ status: 422, message: "a; b", errors: [
      { field: "body.email", message: "'x' is not an e-mail address" },
      { field: "body.email", message: "give an e-mail address to receive notices by e-mail" },
      { field: "body.quiet_start", message: "quiet hours need both a start and an end" },
    ] })).toEqual({ email: { key: "nsettings_email_bad" }, quiet_start: { key: "nsettings_quiet_both" } });
    expect(settingsRefusal({ status: 422, message: "x", errors: [
      { field: "body.quiet_end", message: "quiet hours cannot start and end at the same time" },
      { field: "body.email", message: "give an e-mail address to receive notices by e-mail" },
    ] })).toEqual({ quiet_end: { key: "nsettings_quiet_same" }, email: { key: "nsettings_email_needed" } });
  });

  it("a message naming no field goes where its words point, else nowhere", () => {
    expect(Object.keys(settingsRefusal({ status: 422, message: "Value error, quiet_start needs quiet_end" }))).toEqual(["quiet_end"]);
    expect(settingsRefusal({ status: 422, message: "quiet_start: String should match pattern" }))
      .toEqual({ quiet_start: { server: "quiet_start: String should match pattern", invalid: true } });
    expect(Object.keys(settingsRefusal({ status: 422, message: "the email channel needs an address" }))).toEqual(["email"]);
    expect(settingsRefusal({ status: 422, message: "something else" })).toEqual({});
    expect(settingsRefusal({ status: 500, message: "email server down" })).toEqual({});
  });
});
