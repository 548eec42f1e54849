import {
  Alert,
  Button,
  Checkbox,
  Code,
  Group,
  Modal,
  Select,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import {
  listDeadLettersApiCommonDeadLettersGet,
  replayDeadLettersApiCommonDeadLettersReplayPost,
} from "../../api/generated/sdk.gen";
import type { DeadLetterOut } from "../../api/generated/types.gen";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { formatDate } from "../../i18n/format";
import { OpsNav } from "./OpsNav";
import { ScrollTable } from "./ScrollTable";

const QUEUES = ["identity", "common", "orders", "monitor", "rules"];

type Replay = { ids: number[] } | { all: true };

/** Events a service's queue gave up on: what failed and why; replay puts them back. */
export default function DeadLetters() {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [queue, setQueue] = useState<string | null>(null);
  const [selected, setSelected] = useState<number[]>([]);
  const [confirm, setConfirm] = useState<Replay | null>(null);
  const [open, setOpen] = useState<DeadLetterOut | null>(null);
  const letters = useQuery({
    queryKey: ["dead-letters", queue],
    queryFn: () =>
      unwrap(listDeadLettersApiCommonDeadLettersGet({ query: queue ? { queue } : {} })),
    refetchInterval: 15_000,
  });
  const replay = useMutation({
    mutationFn: (what: Replay) =>
      unwrap(
        replayDeadLettersApiCommonDeadLettersReplayPost({
          body: { ...what, ...(queue ? { queue } : {}) },
        }),
      ),
    onSuccess: () => {
      setConfirm(null);
      setSelected([]);
      void queries.invalidateQueries({ queryKey: ["dead-letters"] });
    },
  });
  const toggle = (id: number) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));
  return (
    <Stack>
      <OpsNav />
      <Title order={1}>{t("ops.dlq.title")}</Title>
      <Text size="sm" c="dimmed">
        {t("ops.dlq.hint")}
      </Text>
      <Select
        label={t("ops.dlq.queue")}
        placeholder={t("ops.dlq.allQueues")}
        clearable
        maw={260}
        value={queue}
        onChange={(q) => {
          setQueue(q);
          setSelected([]);
        }}
        data={QUEUES}
      />
      {replay.isSuccess && (
        <Alert color="brand" role="status">
          {t("ops.dlq.replayed", { count: replay.data.replayed })}
        </Alert>
      )}
      <QueryState query={letters} empty={t("ops.dlq.none")} isEmpty={(d) => d.length === 0}>
        {(d) => (
          <Stack>
            <Group>
              <Button
                disabled={selected.length === 0}
                onClick={() => {
                  replay.reset();
                  setConfirm({ ids: selected });
                }}
              >
                {t("ops.dlq.replaySelected", { count: selected.length })}
              </Button>
              <Button
                variant="default"
                onClick={() => {
                  replay.reset();
                  setConfirm({ all: true });
                }}
              >
                {t("ops.dlq.replayAll", { count: d.length })}
              </Button>
            </Group>
            <ScrollTable minWidth={760} label={t("ops.dlq.title")}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>
                      <Checkbox
                        aria-label={t("ops.dlq.selectAll")}
                        checked={selected.length === d.length}
                        indeterminate={selected.length > 0 && selected.length < d.length}
                        onChange={(e) =>
                          setSelected(e.currentTarget.checked ? d.map((x) => x.id) : [])
                        }
                      />
                    </Table.Th>
                    <Table.Th>{t("ops.dlq.queue")}</Table.Th>
                    <Table.Th>{t("ops.dlq.event")}</Table.Th>
                    <Table.Th>{t("ops.dlq.attempts")}</Table.Th>
                    <Table.Th>{t("ops.dlq.failedAt")}</Table.Th>
                    <Table.Th>{t("ops.dlq.lastError")}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {d.map((l) => (
                    <Table.Tr key={l.id}>
                      <Table.Td>
                        <Checkbox
                          aria-label={t("ops.dlq.select", { type: l.event_type, id: l.id })}
                          checked={selected.includes(l.id)}
                          onChange={() => toggle(l.id)}
                        />
                      </Table.Td>
                      <Table.Td>{l.queue}</Table.Td>
                      <Table.Td>
                        <Button variant="subtle" size="compact-sm" onClick={() => setOpen(l)}>
                          {l.event_type}
                        </Button>
                      </Table.Td>
                      <Table.Td>{l.attempts}</Table.Td>
                      <Table.Td>{formatDate(l.failed_at, true)}</Table.Td>
                      <Table.Td>
                        <Text size="xs" lineClamp={2} style={{ wordBreak: "break-word" }}>
                          {l.last_error}
                        </Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollTable>
          </Stack>
        )}
      </QueryState>
      <Modal
        closeButtonProps={{ "aria-label": t("common.cancel") }}
        opened={confirm !== null}
        onClose={() => setConfirm(null)}
        title={t("ops.dlq.confirmTitle")}
      >
        {confirm && (
          <Stack>
            <Text>
              {"all" in confirm
                ? t("ops.dlq.confirmAll", { queue: queue ?? t("ops.dlq.allQueues") })
                : t("ops.dlq.confirmSome", { count: confirm.ids.length })}
            </Text>
            {replay.isError && <ErrorNote error={replay.error} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setConfirm(null)}>
                {t("common.cancel")}
              </Button>
              <Button loading={replay.isPending} onClick={() => replay.mutate(confirm)}>
                {t("ops.dlq.replay")}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
      <Modal
        closeButtonProps={{ "aria-label": t("common.cancel") }}
        opened={open !== null}
        onClose={() => setOpen(null)}
        title={open?.event_type ?? ""}
        size="lg"
      >
        {open && (
          <Stack gap="xs">
            <Text size="sm">
              {t("ops.dlq.eventId")}: <Code>{open.event_id}</Code>
            </Text>
            <Text size="sm">
              {t("ops.dlq.source")}: <Code>{open.event_source}</Code>
            </Text>
            <Text size="sm" fw={600}>
              {t("ops.dlq.lastError")}
            </Text>
            <Code block style={{ whiteSpace: "pre-wrap" }}>
              {open.last_error}
            </Code>
            <Text size="sm" fw={600}>
              {t("ops.dlq.data")}
            </Text>
            <Code block style={{ whiteSpace: "pre-wrap" }}>
              {JSON.stringify(open.data, null, 2)}
            </Code>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
