import { Group, NumberInput, Radio, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { QuestionAsked } from "../api/generated/types.gen";
import { formatNumber } from "../i18n/format";
import type { Answer } from "../pages/public/decide";

/** One deciding question: yes/no as two choices, a quantity as a number in its unit. */
export function AnswerInput({
  question,
  label,
  value,
  onChange,
  id,
}: {
  question: QuestionAsked;
  label: ReactNode;
  value: Answer | undefined;
  onChange: (answer: Answer | undefined) => void;
  id?: string;
}) {
  const { t } = useTranslation();
  if (question.kind === "number") {
    const min = question.min ?? undefined;
    const max = question.max ?? undefined;
    return (
      <NumberInput
        id={id}
        label={label}
        description={
          min !== undefined && max !== undefined
            ? t("selfCheck.range", {
                min: formatNumber(min),
                max: formatNumber(max),
                unit: question.unit ?? "",
              })
            : undefined
        }
        value={typeof value === "number" ? value : ""}
        onChange={(v) => onChange(typeof v === "number" ? v : undefined)}
        min={min}
        max={max}
        allowNegative={min === undefined || min < 0}
        rightSection={
          question.unit ? (
            <Text size="sm" c="dimmed">
              {question.unit}
            </Text>
          ) : undefined
        }
        rightSectionWidth={question.unit ? 56 : undefined}
        styles={{ wrapper: { maxWidth: 360 } }}
      />
    );
  }
  return (
    <Radio.Group
      id={id}
      label={label}
      value={value === undefined ? null : String(value)}
      onChange={(v) => onChange(v === "true")}
    >
      <Group mt="sm">
        <Radio value="true" label={t("common.yes")} />
        <Radio value="false" label={t("common.no")} />
      </Group>
    </Radio.Group>
  );
}
