import { Alert, Button, Group, Modal, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import {
  keyVersionsApiCommonKeysGet,
  rotateApiCommonKeysRotatePost,
} from "../../api/generated/sdk.gen";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { StateBadge } from "../../components/StateBadge";
import { formatDate } from "../../i18n/format";
import { OpsNav } from "./OpsNav";
import { ScrollTable } from "./ScrollTable";

/** The platform master key's versions, and rotation to a new one (confirmed first). */
export default function Keys() {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const keys = useQuery({
    queryKey: ["keys"],
    queryFn: () => unwrap(keyVersionsApiCommonKeysGet()),
  });
  const rotate = useMutation({
    mutationFn: () => unwrap(rotateApiCommonKeysRotatePost()),
    onSuccess: () => {
      setConfirming(false);
      void queries.invalidateQueries({ queryKey: ["keys"] });
    },
  });
  return (
    <Stack>
      <OpsNav />
      <Title order={1}>{t("ops.keys.title")}</Title>
      <Text size="sm" c="dimmed">
        {t("ops.keys.hint")}
      </Text>
      {rotate.isSuccess && (
        <Alert color="brand" role="status">
          {t("ops.keys.rotated", { version: rotate.data.version })}
        </Alert>
      )}
      <Group>
        <Button
          color="red"
          variant="outline"
          onClick={() => {
            rotate.reset();
            setConfirming(true);
          }}
        >
          {t("ops.keys.rotate")}
        </Button>
      </Group>
      <QueryState query={keys} empty={t("ops.keys.none")} isEmpty={(d) => d.length === 0}>
        {(d) => (
          <ScrollTable minWidth={420} label={t("ops.keys.title")}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("ops.keys.version")}</Table.Th>
                  <Table.Th>{t("requirement.status")}</Table.Th>
                  <Table.Th>{t("common.created")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {[...d].reverse().map((k) => (
                  <Table.Tr key={k.version}>
                    <Table.Td>{k.version}</Table.Td>
                    <Table.Td>
                      <StateBadge state={k.state} />
                    </Table.Td>
                    <Table.Td>{formatDate(k.created_at, true)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </QueryState>
      <Modal
        closeButtonProps={{ "aria-label": t("common.cancel") }}
        opened={confirming}
        onClose={() => setConfirming(false)}
        title={t("ops.keys.confirmTitle")}
      >
        <Stack>
          <Text>{t("ops.keys.confirmBody")}</Text>
          {rotate.isError && <ErrorNote error={rotate.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              {t("common.cancel")}
            </Button>
            <Button color="red" loading={rotate.isPending} onClick={() => rotate.mutate()}>
              {t("ops.keys.rotate")}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
