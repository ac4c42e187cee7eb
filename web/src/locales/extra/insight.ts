// The navigation of the insight screens (issue 16); each screen keeps its own messages in its own file.
export default {
  zh: { nav_reports: "报表", nav_dashboard: "实时看板", nav_scripts: "话术库", nav_knowledge: "知识库" },
  en: { nav_reports: "Reports", nav_dashboard: "Dashboard", nav_scripts: "Scripts", nav_knowledge: "Knowledge base" },
};
