import { Anchor, Button, Code, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { QRCodeSVG } from "qrcode.react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { unwrap } from "../../api/client";
import { getClearanceApiOrdersClearancesClearanceIdGet } from "../../api/generated/sdk.gen";
import { flagOf } from "../../components/flags";
import { productLabel } from "../../components/product";
import { QueryState } from "../../components/QueryState";
import { formatDate } from "../../i18n/format";
import { StandingBanner, standingOf } from "../public/Verify";

/** The certificate, printable on its own (see the print styles), with a QR code of its public check. */
export default function ClearancePage() {
  const { t } = useTranslation();
  const { id = "" } = useParams();
  const clearance = useQuery({
    queryKey: ["clearances", id],
    queryFn: () =>
      unwrap(getClearanceApiOrdersClearancesClearanceIdGet({ path: { clearance_id: id } })),
  });
  return (
    <QueryState query={clearance}>
      {(c) => {
        const verifyUrl = `${window.location.origin}/verify/${c.id}`;
        return (
          <Stack>
            <Group justify="flex-end" className="no-print">
              <Button onClick={() => window.print()}>{t("clearance.print")}</Button>
            </Group>
            <Paper withBorder p="xl" className="certificate" shadow="sm">
              <Stack>
                <Group justify="space-between" align="start" wrap="wrap">
                  <div>
                    <Text size="sm" c="dimmed">
                      Clearway
                    </Text>
                    <Title order={1}>{t("clearance.certificate")}</Title>
                    <Text>
                      {flagOf(c.market)} {c.market} · {productLabel(c.hs_code)}
                    </Text>
                  </div>
                  <Stack align="center" gap={4}>
                    <QRCodeSVG value={verifyUrl} size={132} title={t("clearance.qr")} />
                    <Anchor component={Link} to={`/verify/${c.id}`} size="xs">
                      {t("clearance.verifyLink")}
                    </Anchor>
                  </Stack>
                </Group>
                <StandingBanner standing={standingOf(c)} reason={c.reason} />
                <Table>
                  <Table.Tbody>
                    <Table.Tr>
                      <Table.Th>{t("verify.certificate")}</Table.Th>
                      <Table.Td>
                        <code>{c.id}</code>
                      </Table.Td>
                    </Table.Tr>
                    <Table.Tr>
                      <Table.Th>{t("verify.issued")}</Table.Th>
                      <Table.Td>{formatDate(c.issued_at, true)}</Table.Td>
                    </Table.Tr>
                    <Table.Tr>
                      <Table.Th>{t("verify.validUntil")}</Table.Th>
                      <Table.Td>{formatDate(c.expires_at, true)}</Table.Td>
                    </Table.Tr>
                  </Table.Tbody>
                </Table>
                <Title order={2} size="h4">
                  {t("verify.requirements")}
                </Title>
                <Table>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>{t("requirement.code")}</Table.Th>
                      <Table.Th>{t("reports.report")}</Table.Th>
                      <Table.Th>{t("reports.expiresOn")}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {c.requirements.map((r) => (
                      <Table.Tr key={r.code}>
                        <Table.Td>{r.code}</Table.Td>
                        <Table.Td>
                          <code>{r.report_id.slice(0, 8)}</code>
                        </Table.Td>
                        <Table.Td>{formatDate(r.expires_on)}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
                <Text size="xs" c="dimmed">
                  {t("clearance.signed")}
                </Text>
                <Code block style={{ wordBreak: "break-all", whiteSpace: "pre-wrap" }} fz={9}>
                  {c.certificate}
                </Code>
              </Stack>
            </Paper>
          </Stack>
        );
      }}
    </QueryState>
  );
}
