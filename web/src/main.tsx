import "@mantine/core/styles.css";
import "./styles.css";
import "./i18n";
import { createTheme, MantineProvider, type MantineColorsTuple } from "@mantine/core";
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
const theme = createTheme({
  primaryColor: "brand",
  primaryShade: 8,
  colors: { brand },
  defaultRadius: "md",
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
