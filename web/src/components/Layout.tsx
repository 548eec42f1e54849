import {
  Anchor,
  AppShell,
  Burger,
  Button,
  Container,
  Group,
  NativeSelect,
  Stack,
  Text,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Suspense } from "react";
import { useTranslation } from "react-i18next";
import { Link, NavLink, Outlet, useNavigate } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { chooseLanguage, LANGUAGES, type Language } from "../i18n";
import { Notifications } from "./Notifications";
import { Loading } from "./QueryState";

const NAV: Record<string, { to: string; key: string }[]> = {
  anonymous: [
    { to: "/", key: "nav.search" },
    { to: "/verify", key: "nav.verify" },
  ],
  customer: [
    { to: "/", key: "nav.search" },
    { to: "/home", key: "nav.home" },
    { to: "/checklists", key: "nav.checklists" },
    { to: "/orders", key: "nav.orders" },
    { to: "/clearances", key: "nav.clearances" },
    { to: "/verify", key: "nav.verify" },
  ],
  provider: [
    { to: "/provider", key: "nav.inbox" },
    { to: "/provider/profile", key: "nav.profile" },
    { to: "/", key: "nav.search" },
  ],
  admin: [
    { to: "/admin", key: "nav.dashboard" },
    { to: "/admin/users", key: "nav.users" },
    { to: "/admin/mailbox", key: "nav.mailbox" },
    { to: "/admin/rules", key: "ops.nav.label" },
    { to: "/", key: "nav.search" },
  ],
};

/** Below this width the links move into the menu: a customer's links and the account need it. */
const NARROW = "md";

export function Layout() {
  const { t, i18n } = useTranslation();
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  const [opened, { toggle, close }] = useDisclosure(false);
  const links = NAV[user?.role ?? "anonymous"] ?? [];

  const nav = links.map((link) => (
    <Anchor
      key={link.to}
      component={NavLink}
      to={link.to}
      end
      onClick={close}
      className="nav-link"
      underline="never"
    >
      {t(link.key)}
    </Anchor>
  ));

  // Every signed-in role has an account page (the second factor lives there).
  const account = user && (
    <Anchor
      component={NavLink}
      to="/account"
      end
      onClick={close}
      className="nav-link"
      underline="never"
    >
      {t("nav.account")}
    </Anchor>
  );

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 220, breakpoint: NARROW, collapsed: { desktop: true, mobile: !opened } }}
      padding="md"
    >
      <a href="#main" className="skip-link">
        {t("nav.skip")}
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom={NARROW}
              size="sm"
              aria-label={t("nav.menu")}
            />
            <Anchor component={Link} to="/" fw={700} size="lg" underline="never" c="brand.9">
              Clearway
            </Anchor>
            <Group gap="md" visibleFrom={NARROW} component="nav" aria-label={t("nav.main")}>
              {nav}
            </Group>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <NativeSelect
              aria-label={t("nav.language")}
              size="xs"
              value={i18n.language}
              data={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
              onChange={(event) => chooseLanguage(event.currentTarget.value as Language)}
            />
            {user && <Notifications />}
            {account && (
              <Group visibleFrom={NARROW} wrap="nowrap">
                {account}
              </Group>
            )}
            {user ? (
              <Button
                size="xs"
                variant="default"
                onClick={() => {
                  // Leave the page first: a signed-in page has nothing to show once signed out.
                  void navigate("/");
                  void signOut();
                }}
              >
                {t("nav.signOut")}
              </Button>
            ) : (
              user === null && (
                <Button size="xs" component={Link} to="/sign-in">
                  {t("nav.signIn")}
                </Button>
              )
            )}
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="md" hiddenFrom={NARROW}>
        <Stack component="nav" aria-label={t("nav.main")}>
          {nav}
          {account}
        </Stack>
      </AppShell.Navbar>
      <AppShell.Main>
        <Container size="lg" id="main" tabIndex={-1}>
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </Container>
        <Container size="lg" component="footer" py="xl">
          <Text size="xs" c="dimmed">
            {user
              ? t("footer.signedIn", { name: user.name, role: t(`roles.${user.role}`) })
              : t("footer.tagline")}
          </Text>
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}
