import { zodResolver } from "@hookform/resolvers/zod";
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  PasswordInput,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { z } from "zod";
import { unwrap } from "../../api/client";
import {
  confirmApiIdentityMfaConfirmPost,
  disableApiIdentityMfaDisablePost,
  enrolApiIdentityMfaEnrolPost,
  renewCodesApiIdentityMfaRecoveryCodesPost,
  secondFactorApiIdentityMfaGet,
} from "../../api/generated/sdk.gen";
import type { ProfileOut, SecondFactorStatus } from "../../api/generated/types.gen";
import { useAuth } from "../../auth/AuthProvider";
import { isProblem } from "../../auth/secondFactor";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { CodeField, RecoveryCodes, SecretSetup } from "../../components/SecondFactor";

const MFA = ["mfa"];

/** The signed-in user's account: who they are, and the second factor. */
export default function AccountPage() {
  const { t } = useTranslation();
  const { user } = useAuth();
  if (!user) return null;
  return (
    <Stack maw={720}>
      <Title order={1}>{t("mfa.accountTitle")}</Title>
      <Who user={user} />
      <SecondFactor account={user.email} />
    </Stack>
  );
}

function Who({ user }: { user: ProfileOut }) {
  const { t } = useTranslation();
  return (
    <Table variant="vertical" withTableBorder layout="fixed">
      <Table.Tbody>
        <Table.Tr>
          <Table.Th w="35%">{t("account.name")}</Table.Th>
          <Table.Td>{user.name}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>{t("account.email")}</Table.Th>
          <Table.Td style={{ overflowWrap: "anywhere" }}>{user.email}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>{t("admin.role")}</Table.Th>
          <Table.Td>{t(`roles.${user.role}`)}</Table.Td>
        </Table.Tr>
      </Table.Tbody>
    </Table>
  );
}

type Mode = "idle" | "renew" | "disable";

function SecondFactor({ account }: { account: string }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const status = useQuery({
    queryKey: MFA,
    queryFn: () => unwrap(secondFactorApiIdentityMfaGet()),
  });
  const [mode, setMode] = useState<Mode>("idle");
  // Shown once, right after they are made; gone when the user says they are kept.
  const [codes, setCodes] = useState<string[] | null>(null);
  const [off, setOff] = useState(false);
  const enrol = useMutation({ mutationFn: () => unwrap(enrolApiIdentityMfaEnrolPost()) });
  const changed = () => {
    setMode("idle");
    enrol.reset();
    void queries.invalidateQueries({ queryKey: MFA });
  };
  const gotCodes = (fresh: { recovery_codes: string[] }) => {
    setCodes(fresh.recovery_codes);
    setOff(false);
    changed();
  };
  return (
    <Card withBorder component="section" aria-labelledby="mfa-title">
      <Stack>
        <Title order={2} size="h3" id="mfa-title">
          {t("mfa.title")}
        </Title>
        <Text size="sm">{t("mfa.intro")}</Text>
        {codes && <RecoveryCodes codes={codes} account={account} onDone={() => setCodes(null)} />}
        {off && (
          <Alert color="brand" role="status">
            {t("mfa.turnedOff")}
          </Alert>
        )}
        <QueryState query={status}>
          {(s) => (
            <>
              <Status status={s} />
              {!s.enabled &&
                (enrol.data ? (
                  <Stack>
                    <SecretSetup secret={enrol.data.secret} otpauthUri={enrol.data.otpauth_uri} />
                    <CodeForm
                      recovery={false}
                      submit={t("mfa.confirm")}
                      call={(code) => unwrap(confirmApiIdentityMfaConfirmPost({ body: { code } }))}
                      onDone={gotCodes}
                      onCancel={() => enrol.reset()}
                    />
                  </Stack>
                ) : (
                  <Stack align="flex-start">
                    {enrol.isError && <ErrorNote error={enrol.error} />}
                    <Button loading={enrol.isPending} onClick={() => enrol.mutate()}>
                      {t("mfa.turnOn")}
                    </Button>
                  </Stack>
                ))}
              {s.enabled && mode === "idle" && (
                <Group>
                  <Button variant="default" onClick={() => setMode("renew")}>
                    {t("mfa.renew")}
                  </Button>
                  <Button variant="default" c="red.8" onClick={() => setMode("disable")}>
                    {t("mfa.turnOff")}
                  </Button>
                </Group>
              )}
              {s.enabled && mode === "renew" && (
                <CodeForm
                  intro={t("mfa.renewIntro")}
                  submit={t("mfa.renew")}
                  call={(code) =>
                    unwrap(renewCodesApiIdentityMfaRecoveryCodesPost({ body: { code } }))
                  }
                  onDone={gotCodes}
                  onCancel={() => setMode("idle")}
                />
              )}
              {s.enabled && mode === "disable" && (
                <CodeForm
                  intro={t("mfa.turnOffIntro")}
                  submit={t("mfa.turnOff")}
                  danger
                  withPassword
                  call={(code, password) =>
                    unwrap(
                      disableApiIdentityMfaDisablePost({
                        body: { code, password: password ?? "" },
                      }),
                    )
                  }
                  onDone={() => {
                    setCodes(null);
                    setOff(true);
                    changed();
                  }}
                  onCancel={() => setMode("idle")}
                />
              )}
            </>
          )}
        </QueryState>
      </Stack>
    </Card>
  );
}

function Status({ status }: { status: SecondFactorStatus }) {
  const { t } = useTranslation();
  return (
    <Group gap="sm" data-testid="mfa-status">
      <Badge color={status.enabled ? "green.8" : "gray.7"} variant="filled">
        {status.enabled ? t("mfa.on") : t("mfa.off")}
      </Badge>
      {status.enabled && (
        <Text size="sm">{t("mfa.codesLeft", { count: status.recovery_codes_left })}</Text>
      )}
    </Group>
  );
}

/** One step that a code proves (and, to turn the factor off, the password too). */
function CodeForm<T>({
  intro,
  submit,
  call,
  onDone,
  onCancel,
  recovery = true,
  withPassword = false,
  danger = false,
}: {
  intro?: string;
  submit: string;
  call: (code: string, password?: string) => Promise<T>;
  onDone: (result: T) => void;
  onCancel: () => void;
  recovery?: boolean;
  withPassword?: boolean;
  danger?: boolean;
}) {
  const { t } = useTranslation();
  const schema = z.object({
    code: z.string().trim().min(1).max(32),
    password: withPassword ? z.string().min(1) : z.string().optional(),
  });
  type Values = z.infer<typeof schema>;
  const form = useForm<Values>({ resolver: zodResolver(schema) });
  const send = useMutation({
    mutationFn: (v: Values) => call(v.code, v.password),
    onSuccess: onDone,
    onError: () => form.setValue("code", ""),
  });
  return (
    <form onSubmit={form.handleSubmit((v) => send.mutate(v))} noValidate>
      <Stack maw={420}>
        {intro && <Text size="sm">{intro}</Text>}
        {send.isError &&
          (isProblem(send.error, "invalid-mfa-code") ? (
            <Alert color="red" title={t("common.error")} role="alert">
              {t("mfa.wrongCode")}
            </Alert>
          ) : (
            <ErrorNote error={send.error} />
          ))}
        {withPassword && (
          <PasswordInput
            label={t("account.password")}
            autoComplete="current-password"
            {...form.register("password")}
            error={form.formState.errors.password && t("account.required")}
          />
        )}
        <CodeField
          recovery={recovery}
          {...form.register("code")}
          error={form.formState.errors.code && t("account.required")}
        />
        <Group>
          <Button type="submit" color={danger ? "red" : "brand"} loading={send.isPending}>
            {submit}
          </Button>
          <Button variant="default" onClick={onCancel}>
            {t("common.cancel")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
