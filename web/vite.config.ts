// The staff web app: built into dist/, which the API serves at /app (docs/decisions.md, "The web app").
import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "/app/",
  plugins: [
    vue(),
    // Element Plus on demand: each <el-…> used in a template imports that component and its CSS only.
    Components({ resolvers: [ElementPlusResolver({ importStyle: "css" })], dts: false }),
  ],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    reportCompressedSize: true,
    manifest: true, // dist/.vite/manifest.json: what each screen loads (scripts/route-sizes.mjs, the bundle test)
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      output: {
        // Vue and Element Plus's core in one long-cached chunk; ECharts only where a chart is drawn.
        manualChunks(id) {
          if (id.includes("node_modules/echarts") || id.includes("node_modules/zrender")) return "echarts";
          if (/node_modules\/(vue|@vue|vue-router|pinia|vue-i18n|@intlify)\//.test(id)) return "vue";
          return undefined;
        },
      },
    },
  },
  test: { environment: "jsdom", include: ["src/**/*.test.ts"] },
});
