import { createRoot } from "react-dom/client";
import { takeTokenFromLink } from "./auth.ts";
import { I18nProvider } from "./i18n.tsx";
import { Storefront } from "./Storefront.tsx";
import "./storefront.css";

takeTokenFromLink();
createRoot(document.getElementById("root")!).render(<I18nProvider><Storefront /></I18nProvider>);
