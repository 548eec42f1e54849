import "@mantine/core/styles.css";
import "./styles.css";
import "./i18n";
import {
  createTheme,
  DEFAULT_THEME,
  type MantineColorsTuple,
  MantineProvider,
} from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter, RouterProvider } from "react-router";
import { ApiError } from "./api/client";
import { AuthProvider } from "./auth/AuthProvider";
import { routes } from "./routes";

// Teal, a step darker than Mantine's, so text on it and hover states keep WCAG AA contrast.
const brand: MantineColorsTuple = [
  "#e6fcf5",
  "#c3fae8",
  "#96f2d7",
  "#63e6be",
  "#38d9a9",
  "#12b886",
  "#0ca678",
  "#099268",
  "#087f5b",
  "#066649",
];
/** A palette whose darker half is darker still: its text passes AA on white and on tints. */
function darker(
  name: "red" | "blue" | "orange" | "yellow" | "green",
  dark: string[],
): MantineColorsTuple {
  return [...DEFAULT_THEME.colors[name].slice(0, 6), ...dark] as unknown as MantineColorsTuple;
}
const theme = createTheme({
  primaryColor: "brand",
  primaryShade: 8,
  colors: {
    brand,
    red: darker("red", ["#c92a2a", "#b02525", "#a61e1e", "#871a1a"]),
    blue: darker("blue", ["#1971c2", "#1864ab", "#145591", "#104577"]),
    orange: darker("orange", ["#c2410c", "#b03a0a", "#9a3412", "#7c2d12"]),
    yellow: darker("yellow", ["#a16207", "#8a5306", "#854d0e", "#713f12"]),
    green: darker("green", ["#237032", "#1e6b30", "#1b5e20", "#14491a"]),
  },
  defaultRadius: "md",
  // No animation for people who ask their system for less motion.
  respectReducedMotion: true,
});
const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not heal by asking again.
      retry: (count, error) =>
        !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});
const router = createBrowserRouter(routes);

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme}>
      <QueryClientProvider client={queries}>
        <AuthProvider>
          <RouterProvider router={router} />
        </AuthProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
