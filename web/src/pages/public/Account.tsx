import { zodResolver } from "@hookform/resolvers/zod";
import {
  Alert,
  Anchor,
  Button,
  Paper,
  PasswordInput,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import { z } from "zod";
import { ApiError, unwrap } from "../../api/client";
import {
  forgotApiIdentityPasswordForgotPost,
  registerApiIdentityRegisterPost,
  resetApiIdentityPasswordResetPost,
} from "../../api/generated/sdk.gen";
import type { ProfileOut } from "../../api/generated/types.gen";
import { type Role, useAuth } from "../../auth/AuthProvider";
import { isProblem, type SecondStep, secondStep } from "../../auth/secondFactor";
import { ErrorNote } from "../../components/QueryState";
import { CodeField, SecretSetup } from "../../components/SecondFactor";

/** Where each role starts after signing in. */
export const HOME: Record<Role, string> = {
  customer: "/home",
  provider: "/provider",
  admin: "/admin",
};

/** Only same-site paths may be a `next` target (no open redirect). */
export function safeNext(next: string | null): string | null {
  return next?.startsWith("/") && !next.startsWith("//") ? next : null;
}

const PASSWORD_MIN = 10;

/** A provider that signs up waits for an administrator: say so, not just "forbidden". */
function isPending(error: unknown): boolean {
  return error instanceof ApiError && (error.problemType ?? "").endsWith("account-pending");
}
const email = z.string().trim().email();
const password = z.string().min(PASSWORD_MIN).max(200);

function Panel({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Paper withBorder p="lg" maw={440} mx="auto" mt="lg">
      <Title order={1} size="h2" mb="md">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

export function SignIn() {
  const { t } = useTranslation();
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  // The password stays in this component's state for the second step only, never in storage.
  const [pending, setPending] = useState<Pending | null>(null);
  const schema = z.object({ email, password: z.string().min(1) });
  const form = useForm<z.infer<typeof schema>>({ resolver: zodResolver(schema) });
  const signedIn = (user: ProfileOut) =>
    navigate(safeNext(params.get("next")) ?? HOME[user.role as Role] ?? "/");
  const submit = useMutation({
    mutationFn: (values: z.infer<typeof schema>) => signIn(values.email, values.password),
    onSuccess: signedIn,
    onError: (error, values) => {
      const step = secondStep(error);
      if (!step) return;
      setPending({ ...values, step });
      // One copy of the password, for the second step; back on the first step it is typed again.
      form.resetField("password");
    },
  });
  if (pending) {
    return (
      <SecondFactorStep
        pending={pending}
        onBack={() => setPending(null)}
        // A factor set up while signing in has no recovery codes yet: the account page gives them.
        onSignedIn={(user) =>
          pending.step.kind === "setup" ? navigate("/account") : signedIn(user)
        }
      />
    );
  }
  return (
    <Panel title={t("account.signIn")}>
      <form onSubmit={form.handleSubmit((v) => submit.mutate(v))} noValidate>
        <Stack>
          {submit.isError &&
            !secondStep(submit.error) &&
            (isPending(submit.error) ? (
              <Alert color="yellow" title={t("provider.pendingTitle")} data-testid="pending">
                {t("provider.pending")}
              </Alert>
            ) : (
              <ErrorNote error={submit.error} />
            ))}
          <TextInput
            label={t("account.email")}
            type="email"
            autoComplete="email"
            {...form.register("email")}
            error={form.formState.errors.email && t("account.badEmail")}
          />
          <PasswordInput
            label={t("account.password")}
            autoComplete="current-password"
            {...form.register("password")}
            error={form.formState.errors.password && t("account.required")}
          />
          <Button type="submit" loading={submit.isPending}>
            {t("account.signIn")}
          </Button>
          <Text size="sm">
            <Anchor component={Link} to="/forgot-password">
              {t("account.forgot")}
            </Anchor>
            {" · "}
            <Anchor component={Link} to="/register">
              {t("account.register")}
            </Anchor>
          </Text>
        </Stack>
      </form>
    </Panel>
  );
}

type Pending = { email: string; password: string; step: SecondStep };

/** The sign-in's second step: the same login again, with the authenticator app's code. */
function SecondFactorStep({
  pending,
  onBack,
  onSignedIn,
}: {
  pending: Pending;
  onBack: () => void;
  onSignedIn: (user: ProfileOut) => void;
}) {
  const { t } = useTranslation();
  const { signIn } = useAuth();
  const schema = z.object({ code: z.string().trim().min(1).max(32) });
  const form = useForm<z.infer<typeof schema>>({ resolver: zodResolver(schema) });
  const submit = useMutation({
    mutationFn: (v: z.infer<typeof schema>) => signIn(pending.email, pending.password, v.code),
    onSuccess: onSignedIn,
    onError: () => form.reset({ code: "" }),
  });
  const { step } = pending;
  return (
    <Panel title={step.kind === "setup" ? t("mfa.setupTitle") : t("mfa.signInTitle")}>
      <form onSubmit={form.handleSubmit((v) => submit.mutate(v))} noValidate>
        <Stack>
          {submit.isError &&
            (isProblem(submit.error, "invalid-mfa-code") ? (
              <Alert color="red" title={t("common.error")} role="alert">
                {t("mfa.wrongCode")}
              </Alert>
            ) : (
              <ErrorNote error={submit.error} />
            ))}
          {step.kind === "setup" ? (
            <>
              <Text size="sm">{t("mfa.setupRequired")}</Text>
              <SecretSetup secret={step.secret} otpauthUri={step.otpauthUri} />
            </>
          ) : (
            <Text size="sm">{t("mfa.signInAsk", { email: pending.email })}</Text>
          )}
          <CodeField
            recovery={step.kind === "code"}
            autoFocus
            {...form.register("code")}
            error={form.formState.errors.code && t("account.required")}
          />
          <Button type="submit" loading={submit.isPending}>
            {t("mfa.verify")}
          </Button>
          <Anchor component="button" type="button" size="sm" onClick={onBack} ta="start">
            {t("mfa.back")}
          </Anchor>
        </Stack>
      </form>
    </Panel>
  );
}

export function Register() {
  const { t } = useTranslation();
  const schema = z.object({
    role: z.enum(["customer", "provider"]),
    name: z.string().trim().min(1).max(200),
    company: z.string().trim().max(200).optional(),
    email,
    password,
  });
  type Values = z.infer<typeof schema>;
  const form = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { role: "customer" },
  });
  const submit = useMutation({
    mutationFn: (v: Values) =>
      unwrap(registerApiIdentityRegisterPost({ body: { ...v, company: v.company || null } })),
  });
  const role = form.watch("role");
  if (submit.isSuccess) {
    return (
      <Panel title={t("account.register")}>
        <Alert color="brand" role="status">
          {submit.data.detail} {role === "provider" && t("account.providerPending")}
        </Alert>
        <Anchor component={Link} to="/sign-in" mt="md" display="block">
          {t("account.signIn")}
        </Anchor>
      </Panel>
    );
  }
  return (
    <Panel title={t("account.register")}>
      <form onSubmit={form.handleSubmit((v) => submit.mutate(v))} noValidate>
        <Stack>
          {submit.isError && <ErrorNote error={submit.error} />}
          <div>
            <Text size="sm" fw={500} id="role-label" mb={4}>
              {t("account.iAm")}
            </Text>
            <SegmentedControl
              aria-labelledby="role-label"
              fullWidth
              value={role}
              onChange={(v) => form.setValue("role", v as Values["role"])}
              data={[
                { value: "customer", label: t("account.asCustomer") },
                { value: "provider", label: t("account.asProvider") },
              ]}
            />
          </div>
          <TextInput
            label={t("account.name")}
            autoComplete="name"
            {...form.register("name")}
            error={form.formState.errors.name && t("account.required")}
          />
          <TextInput
            label={t("account.company")}
            autoComplete="organization"
            {...form.register("company")}
          />
          <TextInput
            label={t("account.email")}
            type="email"
            autoComplete="email"
            {...form.register("email")}
            error={form.formState.errors.email && t("account.badEmail")}
          />
          <PasswordInput
            label={t("account.password")}
            description={t("account.passwordRule", { count: PASSWORD_MIN })}
            autoComplete="new-password"
            {...form.register("password")}
            error={
              form.formState.errors.password && t("account.passwordRule", { count: PASSWORD_MIN })
            }
          />
          <Button type="submit" loading={submit.isPending}>
            {t("account.register")}
          </Button>
        </Stack>
      </form>
    </Panel>
  );
}

export function Forgot() {
  const { t } = useTranslation();
  const schema = z.object({ email });
  const form = useForm<z.infer<typeof schema>>({ resolver: zodResolver(schema) });
  const submit = useMutation({
    mutationFn: (v: z.infer<typeof schema>) =>
      unwrap(forgotApiIdentityPasswordForgotPost({ body: v })),
  });
  return (
    <Panel title={t("account.forgotTitle")}>
      {submit.isSuccess ? (
        <Alert color="brand" role="status">
          {submit.data.detail}
        </Alert>
      ) : (
        <form onSubmit={form.handleSubmit((v) => submit.mutate(v))} noValidate>
          <Stack>
            {submit.isError && <ErrorNote error={submit.error} />}
            <TextInput
              label={t("account.email")}
              type="email"
              autoComplete="email"
              {...form.register("email")}
              error={form.formState.errors.email && t("account.badEmail")}
            />
            <Button type="submit" loading={submit.isPending}>
              {t("account.sendLink")}
            </Button>
          </Stack>
        </form>
      )}
    </Panel>
  );
}

export function Reset() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const schema = z
    .object({ password, confirm: z.string() })
    .refine((v) => v.password === v.confirm, { path: ["confirm"] });
  const form = useForm<z.infer<typeof schema>>({ resolver: zodResolver(schema) });
  const submit = useMutation({
    mutationFn: (v: z.infer<typeof schema>) =>
      unwrap(resetApiIdentityPasswordResetPost({ body: { token, new_password: v.password } })),
  });
  if (!token) {
    return (
      <Panel title={t("account.resetTitle")}>
        <Alert color="red">{t("account.noToken")}</Alert>
      </Panel>
    );
  }
  return (
    <Panel title={t("account.resetTitle")}>
      {submit.isSuccess ? (
        <Stack>
          <Alert color="brand" role="status">
            {t("account.resetDone")}
          </Alert>
          <Button component={Link} to="/sign-in">
            {t("account.signIn")}
          </Button>
        </Stack>
      ) : (
        <form onSubmit={form.handleSubmit((v) => submit.mutate(v))} noValidate>
          <Stack>
            {submit.isError && <ErrorNote error={submit.error} />}
            <PasswordInput
              label={t("account.newPassword")}
              autoComplete="new-password"
              {...form.register("password")}
              error={
                form.formState.errors.password && t("account.passwordRule", { count: PASSWORD_MIN })
              }
            />
            <PasswordInput
              label={t("account.confirm")}
              autoComplete="new-password"
              {...form.register("confirm")}
              error={form.formState.errors.confirm && t("account.mismatch")}
            />
            <Button type="submit" loading={submit.isPending}>
              {t("account.setPassword")}
            </Button>
          </Stack>
        </form>
      )}
    </Panel>
  );
}
