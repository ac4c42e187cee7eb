// Hash routes (/app/#/intake?project=1), as the printed intake QR codes and earlier links point.
// Each screen is its own chunk, so the front desk's phone loads only what the intake needs.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from "vue-router";
import type { Me } from "./lib/access";
import { useSession } from "./stores/session";

declare module "vue-router" {
  interface RouteMeta {
    /** shown without signing in */
    public?: boolean;
    /** the action (GET /api/me `actions`, domain/permissions.py) a person needs to see it in the navigation */
    access?: string;
  }
}

const routes: RouteRecordRaw[] = [
  { path: "/", redirect: "/home" },
  { path: "/login", name: "login", component: () => import("./views/LoginView.vue"), meta: { public: true } },
  { path: "/policy", name: "policy", component: () => import("./views/PolicyView.vue"), meta: { public: true } },
  { path: "/home", name: "home", component: () => import("./views/HomeView.vue") },
  { path: "/intake", name: "intake", component: () => import("./views/IntakeView.vue"), meta: { access: "intake" } },
  { path: "/task/:id", name: "task", component: () => import("./views/TaskView.vue"), props: true },
  { path: "/case/:id", name: "case", component: () => import("./views/CaseView.vue"), props: true },
  { path: "/cases", name: "cases", component: () => import("./views/CasesView.vue"), meta: { access: "cases" } },
  { path: "/board", name: "board", component: () => import("./views/BoardView.vue"), meta: { access: "board" } },
  { path: "/warnings", name: "warnings", component: () => import("./views/WarningsView.vue"), meta: { access: "warnings" } },
  { path: "/stats", name: "stats", component: () => import("./views/StatsView.vue"), meta: { access: "stats" } },
  { path: "/refunds", name: "refunds", component: () => import("./views/RefundsView.vue"), meta: { access: "refunds" } },
  { path: "/qr", name: "qr", component: () => import("./views/QrView.vue"), meta: { access: "qr" } },
  { path: "/admin", name: "admin", component: () => import("./views/AdminView.vue"), meta: { access: "admin" } },
  { path: "/notifications", name: "notifications", component: () => import("./views/NotificationsView.vue"), meta: { access: "cases" } },
  { path: "/password", name: "password", component: () => import("./views/PasswordView.vue") },
  { path: "/delegation", name: "delegation", component: () => import("./views/DelegationView.vue"), meta: { access: "cases" } },
  { path: "/robots", name: "robots", component: () => import("./views/RobotsView.vue"), meta: { access: "robots" } },
  { path: "/pool", name: "pool", component: () => import("./views/RetentionPoolView.vue"), meta: { access: "retention_pool" } },
  { path: "/policies", name: "policies", component: () => import("./views/PoliciesView.vue"), meta: { access: "policies" } },
  // The sales office's daily workspace (issue 15).
  { path: "/reception", name: "reception", component: () => import("./views/ReceptionView.vue"), meta: { access: "reception" } },
  { path: "/rotation", name: "rotation", component: () => import("./views/RotationView.vue"), meta: { access: "rotation" } },
  { path: "/partners", name: "partners", component: () => import("./views/PartnersView.vue"), meta: { access: "partners" } },
  { path: "/subscribe", name: "subscribe", component: () => import("./views/SubscribeView.vue"), meta: { access: "subscribe" } },
  { path: "/approvals", name: "approvals", component: () => import("./views/ApprovalsView.vue"), meta: { access: "discount_approvals" } },
  { path: "/finance", name: "finance", component: () => import("./views/FinanceDeskView.vue"), meta: { access: "finance_desk" } },
  { path: "/calendar", name: "calendar", component: () => import("./views/CalendarView.vue"), meta: { access: "calendar" } },
  { path: "/customers", name: "customers", component: () => import("./views/MyCustomersView.vue"), meta: { access: "my_customers" } },
  // Insight (issue 16).
  { path: "/reports", name: "reports", component: () => import("./views/ReportsView.vue"), meta: { access: "reports" } },
  { path: "/dashboard", name: "dashboard", component: () => import("./views/DashboardView.vue"), meta: { access: "dashboard" } },
  { path: "/scripts", name: "scripts", component: () => import("./views/ScriptsView.vue"), meta: { access: "scripts" } },
  { path: "/knowledge", name: "knowledge", component: () => import("./views/KnowledgeView.vue"), meta: { access: "knowledge" } },
  { path: "/customer/:id", name: "customer", component: () => import("./views/CustomerView.vue"), props: true },
  {
    path: "/settings/notifications",
    name: "notice-settings",
    component: () => import("./views/NoticeSettingsView.vue"),
    meta: { access: "cases" },
  },
  { path: "/:pathMatch(.*)*", redirect: "/home" },
];

/** The screens in the navigation, in order (each shown to the roles its ACCESS key names). */
export const NAV: { name: string; label: string; access?: string }[] = [
  { name: "home", label: "nav_home" },
  { name: "reception", label: "nav_reception", access: "reception" },
  { name: "customers", label: "nav_customers", access: "my_customers" },
  { name: "intake", label: "nav_intake", access: "intake" },
  { name: "cases", label: "nav_cases", access: "cases" },
  { name: "board", label: "nav_board", access: "board" },
  { name: "warnings", label: "nav_warnings", access: "warnings" },
  { name: "stats", label: "nav_stats", access: "stats" },
  { name: "rotation", label: "nav_rotation", access: "rotation" },
  { name: "partners", label: "nav_partners", access: "partners" },
  { name: "approvals", label: "nav_approvals", access: "discount_approvals" },
  { name: "finance", label: "nav_finance", access: "finance_desk" },
  { name: "calendar", label: "nav_calendar", access: "calendar" },
  { name: "dashboard", label: "nav_dashboard", access: "dashboard" },
  { name: "reports", label: "nav_reports", access: "reports" },
  { name: "knowledge", label: "nav_knowledge", access: "knowledge" },
  { name: "scripts", label: "nav_scripts", access: "scripts" },
  { name: "refunds", label: "nav_refunds", access: "refunds" },
  { name: "pool", label: "nav_pool", access: "retention_pool" },
  { name: "qr", label: "nav_qr", access: "qr" },
  { name: "delegation", label: "nav_delegation", access: "cases" },
  { name: "notice-settings", label: "nav_notice_settings", access: "cases" },
  { name: "robots", label: "nav_robots", access: "robots" },
  { name: "admin", label: "nav_admin", access: "admin" },
  { name: "policies", label: "nav_policies", access: "policies" },
  { name: "policy", label: "nav_policy" },
];

export const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach(async (to) => {
  const session = useSession();
  if (!to.meta.public && !session.signedIn) {
    return { name: "login", query: { next: to.fullPath === "/login" ? "/home" : to.fullPath } };
  }
  if (session.signedIn && !session.me) {
    // What this person may do, once per sign-in (an ended session is sent to sign in again by api()).
    const { api } = await import("./api");
    try {
      session.setMe(await api<Me>("/api/me"));
    } catch {
      /* the screen's own call shows the error, or the 401 went to the sign-in page */
    }
  }
  // A temporary password set by an administrator: the API refuses everything else until it is changed.
  if (session.me?.must_change_password && !to.meta.public && to.name !== "password") return { name: "password" };
  return true;
});
