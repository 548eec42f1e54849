import {
  Alert,
  Button,
  Paper,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { unwrap } from "../../api/client";
import {
  clearanceStatusApiOrdersClearancesClearanceIdVerifyGet,
  verifyCertificateApiOrdersClearancesVerifyPost,
} from "../../api/generated/sdk.gen";
import type { ClearanceStatus, Verification } from "../../api/generated/types.gen";
import { flagOf } from "../../components/flags";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { formatDate } from "../../i18n/format";

type Standing = "valid" | "revoked" | "expired" | "invalid";

export function standingOf(view: {
  valid: boolean;
  status: string;
  signature_valid?: boolean;
}): Standing {
  if (view.signature_valid === false) return "invalid";
  if (view.valid) return "valid";
  if (view.status === "expired") return "expired";
  if (view.status === "revoked") return "revoked";
  return "invalid";
}

// Dark enough for white text (WCAG AA) and distinct in hue; the words and symbol say it too.
const COLORS: Record<Standing, string> = {
  valid: "#1e6b30",
  revoked: "#a61e1e",
  expired: "#8a4b00",
  invalid: "#a61e1e",
};
const SYMBOLS: Record<Standing, string> = { valid: "✔", revoked: "✖", expired: "⏱", invalid: "✖" };

/** The state, big and in words and colour and symbol, so nobody can misread it. */
export function StandingBanner({
  standing,
  reason,
}: {
  standing: Standing;
  reason?: string | null;
}) {
  const { t } = useTranslation();
  return (
    <Alert
      color={COLORS[standing]}
      variant="filled"
      role="status"
      data-testid="standing"
      data-standing={standing}
      title={
        <Text fz={28} fw={800}>
          <span aria-hidden>{SYMBOLS[standing]} </span>
          {t(`verify.standing.${standing}`)}
        </Text>
      }
    >
      {t(`verify.explain.${standing}`)}
      {reason ? ` ${reason}` : ""}
    </Alert>
  );
}

function Details({ view }: { view: ClearanceStatus | Verification }) {
  const { t } = useTranslation();
  return (
    <Table>
      <Table.Tbody>
        <Table.Tr>
          <Table.Th>{t("verify.certificate")}</Table.Th>
          <Table.Td>
            <code>{view.id}</code>
          </Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>{t("verify.market")}</Table.Th>
          <Table.Td>{view.market && `${flagOf(view.market)} ${view.market}`}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>{t("verify.hsCode")}</Table.Th>
          <Table.Td>{view.hs_code}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>{t("verify.issued")}</Table.Th>
          <Table.Td>{formatDate(view.issued_at, true)}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>{t("verify.validUntil")}</Table.Th>
          <Table.Td>{formatDate(view.expires_at, true)}</Table.Td>
        </Table.Tr>
        {view.revoked_at && (
          <Table.Tr>
            <Table.Th>{t("verify.revokedAt")}</Table.Th>
            <Table.Td>{formatDate(view.revoked_at, true)}</Table.Td>
          </Table.Tr>
        )}
        <Table.Tr>
          <Table.Th>{t("verify.requirements")}</Table.Th>
          <Table.Td>{(view.requirements ?? []).map((r) => r.code).join(", ") || "—"}</Table.Td>
        </Table.Tr>
      </Table.Tbody>
    </Table>
  );
}

export default function Verify() {
  const { t } = useTranslation();
  const { id } = useParams();
  return (
    <Stack maw={720}>
      <Title order={1}>{t("verify.title")}</Title>
      {id ? <ById id={id} /> : <Lookup />}
    </Stack>
  );
}

function ById({ id }: { id: string }) {
  const status = useQuery({
    queryKey: ["verify", id],
    queryFn: () =>
      unwrap(
        clearanceStatusApiOrdersClearancesClearanceIdVerifyGet({ path: { clearance_id: id } }),
      ),
    retry: false,
  });
  return (
    <QueryState query={status}>
      {(view) => (
        <Paper withBorder p="md">
          <Stack>
            <StandingBanner standing={standingOf(view)} reason={view.reason} />
            <Details view={view} />
          </Stack>
        </Paper>
      )}
    </QueryState>
  );
}

function Lookup() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [id, setId] = useState("");
  const [certificate, setCertificate] = useState("");
  const present = useMutation({
    mutationFn: () =>
      unwrap(
        verifyCertificateApiOrdersClearancesVerifyPost({
          body: { certificate: certificate.trim() },
        }),
      ),
  });
  return (
    <Stack>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (id.trim()) navigate(`/verify/${encodeURIComponent(id.trim())}`);
        }}
      >
        <Stack>
          <TextInput
            label={t("verify.byId")}
            value={id}
            onChange={(e) => setId(e.currentTarget.value)}
          />
          <Button type="submit" w="fit-content">
            {t("verify.check")}
          </Button>
        </Stack>
      </form>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (certificate.trim()) present.mutate();
        }}
      >
        <Stack>
          <Textarea
            label={t("verify.paste")}
            autosize
            minRows={3}
            value={certificate}
            onChange={(e) => setCertificate(e.currentTarget.value)}
          />
          <Button type="submit" w="fit-content" loading={present.isPending}>
            {t("verify.checkCertificate")}
          </Button>
        </Stack>
      </form>
      {present.isError && <ErrorNote error={present.error} />}
      {present.data && (
        <Paper withBorder p="md">
          <Stack>
            <StandingBanner standing={standingOf(present.data)} reason={present.data.reason} />
            {present.data.id && <Details view={present.data} />}
          </Stack>
        </Paper>
      )}
    </Stack>
  );
}
