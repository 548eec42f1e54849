import { Anchor, Group } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { NavLink } from "react-router";

const PAGES = [
  { to: "/admin/providers", key: "ops.nav.providers" },
  { to: "/admin/rules", key: "ops.nav.rules" },
  { to: "/admin/import", key: "ops.nav.import" },
  { to: "/admin/audit", key: "ops.nav.audit" },
  { to: "/admin/dead-letters", key: "ops.nav.deadLetters" },
  { to: "/admin/keys", key: "ops.nav.keys" },
];

/** The administrator's operations pages, linked from each of them (wraps on a phone). */
export function OpsNav() {
  const { t } = useTranslation();
  return (
    <Group component="nav" aria-label={t("ops.nav.label")} gap="md" wrap="wrap">
      {PAGES.map((page) => (
        <Anchor
          key={page.to}
          component={NavLink}
          to={page.to}
          className="nav-link"
          underline="never"
          size="sm"
        >
          {t(page.key)}
        </Anchor>
      ))}
    </Group>
  );
}
