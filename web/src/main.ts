import { createPinia } from "pinia";
import { createApp } from "vue";
import App from "./App.vue";
import { currentLang, i18n, setLang } from "./i18n";
import { router } from "./router";
import "./styles.css";

setLang(currentLang());
createApp(App).use(createPinia()).use(i18n).use(router).mount("#app");
