import {
  Alert,
  Button,
  Code,
  CopyButton,
  Group,
  List,
  Stack,
  Text,
  TextInput,
  type TextInputProps,
} from "@mantine/core";
import { QRCodeSVG } from "qrcode.react";
import { useTranslation } from "react-i18next";
import { groupSecret, recoveryCodesFile } from "../auth/secondFactor";

/** A code from the authenticator app, or a recovery code where one is accepted. */
export function CodeField({
  recovery = true,
  ...props
}: TextInputProps & { recovery?: boolean; ref?: React.Ref<HTMLInputElement> }) {
  const { t } = useTranslation();
  return (
    <TextInput
      label={t("mfa.code")}
      description={recovery ? t("mfa.codeOrRecovery") : t("mfa.codeOnly")}
      autoComplete="one-time-code"
      spellCheck={false}
      maxLength={32}
      {...props}
    />
  );
}

/** The new secret as a QR code for the authenticator app, and as text to type in. */
export function SecretSetup({ secret, otpauthUri }: { secret: string; otpauthUri: string }) {
  const { t } = useTranslation();
  return (
    <Stack gap="xs">
      <Text size="sm">{t("mfa.scan")}</Text>
      <Group align="flex-start" gap="lg">
        <QRCodeSVG value={otpauthUri} size={168} marginSize={2} title={t("mfa.qr")} />
        <Stack gap={4} style={{ flex: "1 1 12rem", minWidth: 0 }}>
          <Text size="sm" fw={500} id="mfa-secret-label">
            {t("mfa.secret")}
          </Text>
          <Code
            block
            data-testid="mfa-secret"
            aria-labelledby="mfa-secret-label"
            style={{ wordBreak: "break-all" }}
          >
            {groupSecret(secret)}
          </Code>
          <CopyButton value={secret}>
            {({ copied, copy }) => (
              <Button size="xs" variant="default" onClick={copy} w="fit-content">
                {copied ? t("mfa.copied") : t("mfa.copySecret")}
              </Button>
            )}
          </CopyButton>
        </Stack>
      </Group>
    </Stack>
  );
}

/** The ten recovery codes, shown once: copy them, download them, then say they are kept. */
export function RecoveryCodes({
  codes,
  account,
  onDone,
}: {
  codes: readonly string[];
  account: string;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const download = () => {
    const text = recoveryCodesFile(codes, account, t("mfa.fileHeading"));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    link.download = "clearway-recovery-codes.txt";
    link.click();
    URL.revokeObjectURL(link.href);
  };
  return (
    <Alert color="yellow" title={t("mfa.codesTitle")} data-testid="recovery-codes">
      <Stack gap="sm">
        <Text size="sm">{t("mfa.codesOnce")}</Text>
        <List
          listStyleType="none"
          spacing={2}
          styles={{ root: { columns: "2 10rem", paddingInlineStart: 0 } }}
          aria-label={t("mfa.codesTitle")}
        >
          {codes.map((code) => (
            <List.Item key={code}>
              <Code fz="sm">{code}</Code>
            </List.Item>
          ))}
        </List>
        <Group gap="xs">
          <CopyButton value={codes.join("\n")}>
            {({ copied, copy }) => (
              <Button size="xs" variant="default" onClick={copy}>
                {copied ? t("mfa.copied") : t("mfa.copyCodes")}
              </Button>
            )}
          </CopyButton>
          <Button size="xs" variant="default" onClick={download}>
            {t("mfa.download")}
          </Button>
          <Button size="xs" onClick={onDone}>
            {t("mfa.kept")}
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}
