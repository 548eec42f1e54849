import { Anchor, Card, Code, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../api/client";
import { listMailApiCommonMailboxGet } from "../../api/generated/sdk.gen";
import type { MailOut } from "../../api/generated/types.gen";
import { QueryState } from "../../components/QueryState";
import { formatDate } from "../../i18n/format";

/** The local mailbox: what the platform mailed when no SMTP relay is configured. */
export default function Mailbox() {
  const { t } = useTranslation();
  const [recipient, setRecipient] = useState("");
  const [debounced] = useDebouncedValue(recipient.trim(), 300);
  const [open, setOpen] = useState<MailOut | null>(null);
  const mail = useQuery({
    queryKey: ["mailbox", debounced],
    queryFn: () =>
      unwrap(
        listMailApiCommonMailboxGet({
          query: { limit: 50, ...(debounced ? { recipient: debounced } : {}) },
        }),
      ),
    refetchInterval: 15_000,
  });
  return (
    <Stack>
      <Title order={1}>{t("nav.mailbox")}</Title>
      <TextInput
        label={t("admin.recipient")}
        value={recipient}
        onChange={(e) => setRecipient(e.currentTarget.value)}
        maw={360}
      />
      <QueryState query={mail} empty={t("admin.noMail")} isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <Table.ScrollContainer minWidth={560}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("admin.subject")}</Table.Th>
                  <Table.Th>{t("admin.recipient")}</Table.Th>
                  <Table.Th>{t("common.created")}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.items.map((m) => (
                  <Table.Tr key={m.id}>
                    <Table.Td>
                      <Anchor component="button" type="button" onClick={() => setOpen(m)}>
                        {m.subject}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{m.recipient}</Table.Td>
                    <Table.Td>{formatDate(m.created_at, true)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      {open && (
        <Card withBorder aria-label={open.subject}>
          <Text fw={700}>{open.subject}</Text>
          <Text size="sm" c="dimmed">
            {open.recipient}
          </Text>
          <Code block mt="sm" style={{ whiteSpace: "pre-wrap" }}>
            {open.text}
          </Code>
        </Card>
      )}
    </Stack>
  );
}
