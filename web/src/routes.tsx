import { lazy } from "react";
import type { RouteObject } from "react-router";
import { Layout } from "./components/Layout";
import { RequireRole } from "./components/RequireRole";
import Landing from "./pages/public/Landing";
import NotFound from "./pages/public/NotFound";

// The landing page is in the first chunk; every other page is its own lazy chunk.
const account = () => import("./pages/public/Account");
const SignIn = lazy(() => account().then((m) => ({ default: m.SignIn })));
const Register = lazy(() => account().then((m) => ({ default: m.Register })));
const Forgot = lazy(() => account().then((m) => ({ default: m.Forgot })));
const Reset = lazy(() => account().then((m) => ({ default: m.Reset })));
const SelfCheck = lazy(() => import("./pages/public/SelfCheck"));
const Verify = lazy(() => import("./pages/public/Verify"));

const AccountPage = lazy(() => import("./pages/account/Security"));

const CustomerHome = lazy(() => import("./pages/customer/Home"));
const Checklists = lazy(() => import("./pages/customer/Checklists"));
const ChecklistPage = lazy(() => import("./pages/customer/ChecklistPage"));
const NewOrder = lazy(() => import("./pages/customer/NewOrder"));
const Orders = lazy(() => import("./pages/customer/Orders"));
const OrderPage = lazy(() => import("./pages/customer/OrderPage"));
const Clearances = lazy(() => import("./pages/customer/Clearances"));
const ClearancePage = lazy(() => import("./pages/customer/ClearancePage"));

const ProviderInbox = lazy(() => import("./pages/provider/Inbox"));
const ProviderProfile = lazy(() => import("./pages/provider/Profile"));

const AdminDashboard = lazy(() => import("./pages/admin/Dashboard"));
const AdminUsers = lazy(() => import("./pages/admin/Users"));
const AdminMailbox = lazy(() => import("./pages/admin/Mailbox"));
const AdminProviders = lazy(() => import("./pages/admin/Providers"));
const AdminRules = lazy(() => import("./pages/admin/Rules"));
const AdminRule = lazy(() => import("./pages/admin/RulePage"));
const AdminImport = lazy(() => import("./pages/admin/RuleImport"));
const AdminAudit = lazy(() => import("./pages/admin/Audit"));
const AdminDeadLetters = lazy(() => import("./pages/admin/DeadLetters"));
const AdminKeys = lazy(() => import("./pages/admin/Keys"));

const customer = (element: React.ReactNode) => (
  <RequireRole roles={["customer"]}>{element}</RequireRole>
);
const provider = (element: React.ReactNode) => (
  <RequireRole roles={["provider"]}>{element}</RequireRole>
);
const admin = (element: React.ReactNode) => <RequireRole roles={["admin"]}>{element}</RequireRole>;
const signedIn = (element: React.ReactNode) => (
  <RequireRole roles={["customer", "provider", "admin"]}>{element}</RequireRole>
);

/** Every page of the app. Paths the platform mails (/orders/:id, /clearances/:id,
 * /reset-password, /forgot-password, /verify/:id) must stay as they are. */
export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      { index: true, element: <Landing /> },
      { path: "self-check", element: <SelfCheck /> },
      { path: "verify", element: <Verify /> },
      { path: "verify/:id", element: <Verify /> },
      { path: "sign-in", element: <SignIn /> },
      { path: "register", element: <Register /> },
      { path: "forgot-password", element: <Forgot /> },
      { path: "reset-password", element: <Reset /> },
      { path: "account", element: signedIn(<AccountPage />) },
      { path: "home", element: customer(<CustomerHome />) },
      { path: "checklists", element: customer(<Checklists />) },
      { path: "checklists/:id", element: customer(<ChecklistPage />) },
      { path: "orders", element: signedIn(<Orders />) },
      { path: "orders/new", element: customer(<NewOrder />) },
      { path: "orders/:id", element: signedIn(<OrderPage />) },
      { path: "clearances", element: customer(<Clearances />) },
      { path: "clearances/:id", element: signedIn(<ClearancePage />) },
      { path: "provider", element: provider(<ProviderInbox />) },
      { path: "provider/profile", element: provider(<ProviderProfile />) },
      { path: "admin", element: admin(<AdminDashboard />) },
      { path: "admin/users", element: admin(<AdminUsers />) },
      { path: "admin/mailbox", element: admin(<AdminMailbox />) },
      { path: "admin/providers", element: admin(<AdminProviders />) },
      { path: "admin/rules", element: admin(<AdminRules />) },
      { path: "admin/rules/:code", element: admin(<AdminRule />) },
      { path: "admin/import", element: admin(<AdminImport />) },
      { path: "admin/audit", element: admin(<AdminAudit />) },
      { path: "admin/dead-letters", element: admin(<AdminDeadLetters />) },
      { path: "admin/keys", element: admin(<AdminKeys />) },
      { path: "*", element: <NotFound /> },
    ],
  },
];
