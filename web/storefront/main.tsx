import { createRoot } from "react-dom/client";
import { Storefront } from "./Storefront.tsx";
import "./storefront.css";

createRoot(document.getElementById("root")!).render(<Storefront />);
