import { Alert, SegmentedControl, Stack, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import { myProfileApiOrdersProvidersMeGet } from "../../api/generated/sdk.gen";
import { useAuth } from "../../auth/AuthProvider";
import { QueryState } from "../../components/QueryState";
import { useOrders } from "../../hooks/api";
import { OrderTable } from "../customer/Orders";

const NEW = new Set(["submitted"]);
const ACTIVE = new Set(["quoted", "accepted", "in_progress", "report_delivered"]);

/** A provider's work: new orders to answer, active ones, and history. */
export default function Inbox() {
  const { t } = useTranslation();
  const { user } = useAuth();
  const [view, setView] = useState("new");
  const orders = useOrders(10_000);
  const profile = useQuery({
    queryKey: ["provider-profile"],
    queryFn: () => unwrap(myProfileApiOrdersProvidersMeGet()),
    retry: false,
  });
  const pending = user?.status === "pending" || profile.data?.status === "pending";
  return (
    <Stack>
      <Title order={1}>{t("provider.inbox")}</Title>
      {pending && (
        <Alert color="yellow" title={t("provider.pendingTitle")} data-testid="pending">
          {t("provider.pending")}
        </Alert>
      )}
      {profile.data && !profile.data.markets.length && !pending && (
        <Alert color="blue">{t("provider.completeProfile")}</Alert>
      )}
      <SegmentedControl
        w="fit-content"
        value={view}
        onChange={setView}
        data={[
          { value: "new", label: t("provider.new") },
          { value: "active", label: t("provider.active") },
          { value: "history", label: t("provider.history") },
        ]}
      />
      <QueryState query={orders}>
        {(all) => {
          const shown = all.filter((o) =>
            view === "new"
              ? NEW.has(o.state)
              : view === "active"
                ? ACTIVE.has(o.state)
                : !NEW.has(o.state) && !ACTIVE.has(o.state),
          );
          return shown.length ? (
            <OrderTable orders={shown} />
          ) : (
            <Alert color="gray">{t("provider.empty")}</Alert>
          );
        }}
      </QueryState>
    </Stack>
  );
}
