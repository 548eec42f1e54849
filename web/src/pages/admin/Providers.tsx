import { Button, Group, Modal, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import {
  deleteApiIdentityUsersUserIdDelete,
  listUsersApiIdentityUsersGet,
  reinstateProviderApiOrdersProvidersProviderIdReinstatePost,
  searchProvidersApiOrdersProvidersGet,
  suspendProviderApiOrdersProvidersProviderIdSuspendPost,
  verifyApiIdentityUsersUserIdVerifyPost,
} from "../../api/generated/sdk.gen";
import type { ProviderOut } from "../../api/generated/types.gen";
import { flagOf } from "../../components/flags";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { formatDate } from "../../i18n/format";
import { OpsNav } from "./OpsNav";
import { ScrollTable } from "./ScrollTable";

type Act = "verify" | "suspend" | "reinstate" | "delete";
// A provider's id is its account's id: verifying and deleting are the account's (identity),
// suspending and reinstating its listing in the marketplace (orders).
const CALLS: Record<Act, (id: string) => Promise<unknown>> = {
  verify: (id) => unwrap(verifyApiIdentityUsersUserIdVerifyPost({ path: { user_id: id } })),
  suspend: (id) =>
    unwrap(suspendProviderApiOrdersProvidersProviderIdSuspendPost({ path: { provider_id: id } })),
  reinstate: (id) =>
    unwrap(
      reinstateProviderApiOrdersProvidersProviderIdReinstatePost({ path: { provider_id: id } }),
    ),
  delete: (id) => unwrap(deleteApiIdentityUsersUserIdDelete({ path: { user_id: id } })),
};

function actionsFor(provider: ProviderOut): Act[] {
  if (provider.status === "pending") return ["verify", "delete"];
  if (provider.status === "suspended") return ["reinstate", "delete"];
  return ["suspend", "delete"];
}

const danger = (act: Act) => act === "delete" || act === "suspend";

/** Providers as the marketplace lists them: verify, suspend, reinstate, delete, confirmed first. */
export default function Providers() {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [status, setStatus] = useState<string | null>(null);
  const [pending, setPending] = useState<{ provider: ProviderOut; act: Act } | null>(null);
  const providers = useQuery({
    queryKey: ["admin-providers", status],
    queryFn: () =>
      unwrap(
        searchProvidersApiOrdersProvidersGet({
          query: { limit: 100, ...(status ? { status } : {}) },
        }),
      ),
  });
  // The accounts behind the listings: a provider's profile may not carry a name yet.
  const accounts = useQuery({
    queryKey: ["users", "provider", null],
    queryFn: () =>
      unwrap(listUsersApiIdentityUsersGet({ query: { limit: 100, role: "provider" } })),
  });
  const account = new Map((accounts.data?.items ?? []).map((u) => [u.id, u]));
  const act = useMutation({
    mutationFn: ({ provider, act }: { provider: ProviderOut; act: Act }) => CALLS[act](provider.id),
    onSuccess: () => {
      setPending(null);
      void queries.invalidateQueries({ queryKey: ["admin-providers"] });
      void queries.invalidateQueries({ queryKey: ["users"] });
    },
  });
  const name = (p: ProviderOut) => p.display_name ?? account.get(p.id)?.name ?? p.id;
  const email = (p: ProviderOut) => p.contact_email ?? account.get(p.id)?.email;
  return (
    <Stack>
      <OpsNav />
      <Title order={1}>{t("ops.providers.title")}</Title>
      <Select
        label={t("ops.providers.listing")}
        placeholder={t("ops.providers.any")}
        clearable
        maw={280}
        value={status}
        onChange={setStatus}
        data={["pending", "listed", "suspended"].map((s) => ({
          value: s,
          label: t(`ops.providers.status.${s}`),
        }))}
      />
      <QueryState
        query={providers}
        empty={t("ops.providers.none")}
        isEmpty={(d) => d.items.length === 0}
      >
        {(d) => (
          <ScrollTable minWidth={720} label={t("ops.providers.title")}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("ops.providers.name")}</Table.Th>
                  <Table.Th>{t("ops.providers.markets")}</Table.Th>
                  <Table.Th>{t("ops.providers.covers")}</Table.Th>
                  <Table.Th>{t("requirement.status")}</Table.Th>
                  <Table.Th>{t("common.updated")}</Table.Th>
                  <Table.Th>{t("common.actions")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.items.map(({ provider: p }) => (
                  <Table.Tr key={p.id}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {name(p)}
                      </Text>
                      {email(p) && (
                        <Text size="xs" c="dimmed">
                          {email(p)}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {p.markets.length
                        ? p.markets.map((m) => `${flagOf(m)} ${m}`.trim()).join(", ")
                        : "—"}
                    </Table.Td>
                    <Table.Td>{p.requirement_codes.length || "—"}</Table.Td>
                    <Table.Td>
                      <StateBadge state={p.status} />
                    </Table.Td>
                    <Table.Td>{formatDate(p.updated_at)}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        {actionsFor(p).map((a) => (
                          <Button
                            key={a}
                            size="xs"
                            variant={a === "delete" ? "outline" : "light"}
                            color={danger(a) ? "red" : "brand"}
                            aria-label={`${t(`admin.acts.${a}`)}: ${name(p)}`}
                            onClick={() => {
                              act.reset();
                              setPending({ provider: p, act: a });
                            }}
                          >
                            {t(`admin.acts.${a}`)}
                          </Button>
                        ))}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </QueryState>
      <Modal
        closeButtonProps={{ "aria-label": t("common.cancel") }}
        opened={pending !== null}
        onClose={() => setPending(null)}
        title={t("admin.confirmTitle")}
      >
        {pending && (
          <Stack>
            <Text>
              {t(`ops.providers.confirm.${pending.act}`, { name: name(pending.provider) })}
            </Text>
            {act.isError && <ErrorNote error={act.error} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setPending(null)}>
                {t("common.cancel")}
              </Button>
              <Button
                color={danger(pending.act) ? "red" : "brand"}
                loading={act.isPending}
                onClick={() => act.mutate(pending)}
              >
                {t(`admin.acts.${pending.act}`)}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
