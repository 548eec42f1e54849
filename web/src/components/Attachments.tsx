import { Group, Progress, Stack, Text } from "@mantine/core";
import { Dropzone } from "@mantine/dropzone";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { formatBytes } from "../i18n/format";

// The platform's default per-file limit (CLEARWAY_ORDERS_ATTACHMENT_MAX_BYTES); the server
// enforces the configured one and its 413 is shown in words.
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

/** Drag-and-drop (or click, or keyboard) file picker. */
export function FileDrop({
  onFiles,
  disabled,
}: {
  onFiles: (files: File[]) => void;
  disabled?: boolean;
}) {
  const { t } = useTranslation();
  const [rejected, setRejected] = useState<string | null>(null);
  return (
    <Stack gap={4}>
      <Dropzone
        onDrop={(files) => {
          setRejected(null);
          onFiles(files);
        }}
        onReject={(files) => setRejected(files.map((f) => f.file.name).join(", "))}
        maxSize={MAX_ATTACHMENT_BYTES}
        disabled={disabled ?? false}
        aria-label={t("attachments.drop")}
        inputProps={{ "aria-label": t("attachments.drop") }}
        data-testid="dropzone"
      >
        <Group justify="center" mih={80} style={{ pointerEvents: "none" }}>
          <div>
            <Text>{t("attachments.drop")}</Text>
            <Text size="sm" c="dimmed">
              {t("attachments.limit", { size: formatBytes(MAX_ATTACHMENT_BYTES) })}
            </Text>
          </div>
        </Group>
      </Dropzone>
      {rejected && (
        <Text c="red.8" size="sm" role="alert">
          {t("attachments.rejected", { names: rejected })}
        </Text>
      )}
    </Stack>
  );
}

export type Upload = { name: string; size: number; progress: number; error?: string };

/** Files on their way up, each with its progress bar. */
export function UploadList({ uploads }: { uploads: Upload[] }) {
  const { t } = useTranslation();
  return (
    <Stack gap={6}>
      {uploads.map((u) => (
        <div key={u.name}>
          <Text size="sm">
            {u.name} · {formatBytes(u.size)}{" "}
            {u.error ? `· ${u.error}` : u.progress >= 1 ? `· ${t("attachments.done")}` : ""}
          </Text>
          <Progress
            value={u.progress * 100}
            color={u.error ? "red" : "brand"}
            aria-label={t("attachments.progress", { name: u.name })}
          />
        </div>
      ))}
    </Stack>
  );
}
