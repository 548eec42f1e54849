import { Alert, Anchor, Button, Stack } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "react-router";
import { type Role, useAuth } from "../auth/AuthProvider";
import { Loading } from "./QueryState";

/** Renders its page for the allowed roles; everyone else is told why, with a way home. */
export function RequireRole({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const location = useLocation();
  if (user === undefined) return <Loading />;
  if (user === null) {
    const next = encodeURIComponent(location.pathname + location.search);
    return (
      <Stack maw={520}>
        <Alert color="blue" title={t("denied.signInTitle")}>
          {t("denied.signIn")}
        </Alert>
        <Button component={Link} to={`/sign-in?next=${next}`} w="fit-content">
          {t("nav.signIn")}
        </Button>
      </Stack>
    );
  }
  if (!roles.includes(user.role as Role)) {
    return (
      <Alert color="red" title={t("denied.title")} role="alert" maw={520}>
        {t("denied.body", { role: t(`roles.${user.role}`) })}{" "}
        <Anchor component={Link} to="/" c="inherit" underline="always" fw={700}>
          {t("denied.home")}
        </Anchor>
      </Alert>
    );
  }
  return <>{children}</>;
}
