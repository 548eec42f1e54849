import { Alert, Button, Group, Modal, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import {
  deleteApiIdentityUsersUserIdDelete,
  listUsersApiIdentityUsersGet,
  reinstateApiIdentityUsersUserIdReinstatePost,
  resetSecondFactorApiIdentityUsersUserIdSecondFactorDelete,
  suspendApiIdentityUsersUserIdSuspendPost,
  verifyApiIdentityUsersUserIdVerifyPost,
} from "../../api/generated/sdk.gen";
import type { ProfileOut } from "../../api/generated/types.gen";
import { useAuth } from "../../auth/AuthProvider";
import { isProblem } from "../../auth/secondFactor";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { formatDate } from "../../i18n/format";

type Act = "verify" | "suspend" | "reinstate" | "delete" | "resetFactor";
const CALLS: Record<Act, (id: string) => Promise<unknown>> = {
  verify: (id) => unwrap(verifyApiIdentityUsersUserIdVerifyPost({ path: { user_id: id } })),
  suspend: (id) => unwrap(suspendApiIdentityUsersUserIdSuspendPost({ path: { user_id: id } })),
  reinstate: (id) =>
    unwrap(reinstateApiIdentityUsersUserIdReinstatePost({ path: { user_id: id } })),
  delete: (id) => unwrap(deleteApiIdentityUsersUserIdDelete({ path: { user_id: id } })),
  resetFactor: (id) =>
    unwrap(resetSecondFactorApiIdentityUsersUserIdSecondFactorDelete({ path: { user_id: id } })),
};
const DANGER: ReadonlySet<Act> = new Set(["delete", "suspend", "resetFactor"]);

/** What an administrator may do to a user; their own second factor another administrator resets. */
export function actionsFor(user: ProfileOut, me: string | undefined): Act[] {
  const reset: Act[] = user.id === me ? [] : ["resetFactor"];
  if (user.role === "admin") return reset;
  if (user.status === "pending") return ["verify", "delete"];
  if (user.status === "suspended") return ["reinstate", ...reset, "delete"];
  return ["suspend", ...reset, "delete"];
}

const REFUSED = {
  "mfa-disabled": "admin.resetRefused.none",
  "self-reset": "admin.resetRefused.self",
} as const;

/** The words for a refused reset; other errors keep their problem detail. */
function ActError({ error }: { error: unknown }) {
  const { t } = useTranslation();
  for (const [name, key] of Object.entries(REFUSED)) {
    if (isProblem(error, name)) {
      return (
        <Alert color="red" title={t("common.error")} role="alert">
          {t(key)}
        </Alert>
      );
    }
  }
  return <ErrorNote error={error} />;
}

/** Users and providers: verify, suspend, reinstate, reset a lost second factor, delete, each
 * confirmed first. */
export default function Users() {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const { user: me } = useAuth();
  const [role, setRole] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [pending, setPending] = useState<{ user: ProfileOut; act: Act } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const users = useQuery({
    queryKey: ["users", role, status],
    queryFn: () =>
      unwrap(
        listUsersApiIdentityUsersGet({
          query: {
            limit: 100,
            ...(role ? { role: role as "customer" } : {}),
            ...(status ? { status: status as "active" } : {}),
          },
        }),
      ),
  });
  const act = useMutation({
    mutationFn: ({ user, act }: { user: ProfileOut; act: Act }) => CALLS[act](user.id),
    onSuccess: (_, done) => {
      setPending(null);
      setNotice(done.act === "resetFactor" ? t("admin.resetDone", { name: done.user.name }) : null);
      void queries.invalidateQueries({ queryKey: ["users"] });
    },
  });
  // A refusal belongs to the action it answered, not to the next one confirmed.
  const close = () => {
    setPending(null);
    act.reset();
  };
  return (
    <Stack>
      <Title order={1}>{t("admin.usersTitle")}</Title>
      {notice && (
        <Alert
          color="brand"
          role="status"
          withCloseButton
          closeButtonLabel={t("common.close")}
          onClose={() => setNotice(null)}
        >
          {notice}
        </Alert>
      )}
      <Group>
        <Select
          label={t("admin.role")}
          clearable
          value={role}
          onChange={setRole}
          data={["customer", "provider", "admin"].map((r) => ({
            value: r,
            label: t(`roles.${r}`),
          }))}
        />
        <Select
          label={t("requirement.status")}
          clearable
          value={status}
          onChange={setStatus}
          data={["pending", "active", "suspended"].map((s) => ({
            value: s,
            label: t(`states.${s}`, { defaultValue: s }),
          }))}
        />
      </Group>
      <QueryState query={users} empty={t("admin.noUsers")} isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <Table.ScrollContainer minWidth={640}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("account.name")}</Table.Th>
                  <Table.Th>{t("account.email")}</Table.Th>
                  <Table.Th>{t("admin.role")}</Table.Th>
                  <Table.Th>{t("requirement.status")}</Table.Th>
                  <Table.Th>{t("common.created")}</Table.Th>
                  <Table.Th>{t("common.actions")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.items.map((u) => (
                  <Table.Tr key={u.id}>
                    <Table.Td>{u.name}</Table.Td>
                    <Table.Td>{u.email}</Table.Td>
                    <Table.Td>{t(`roles.${u.role}`)}</Table.Td>
                    <Table.Td>
                      <StateBadge state={u.status} />
                    </Table.Td>
                    <Table.Td>{formatDate(u.created_at)}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {actionsFor(u, me?.id).map((a) => (
                          <Button
                            key={a}
                            size="xs"
                            variant="default"
                            c={DANGER.has(a) ? "red.8" : undefined}
                            onClick={() => setPending({ user: u, act: a })}
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
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Modal
        opened={pending !== null}
        onClose={close}
        title={t("admin.confirmTitle")}
        closeButtonProps={{ "aria-label": t("common.cancel") }}
      >
        {pending && (
          <Stack>
            <Text>
              {t(`admin.confirm.${pending.act}`, {
                name: pending.user.name,
                email: pending.user.email,
              })}
            </Text>
            {act.isError && <ActError error={act.error} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                {t("common.cancel")}
              </Button>
              <Button
                color={DANGER.has(pending.act) ? "red" : "brand"}
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
