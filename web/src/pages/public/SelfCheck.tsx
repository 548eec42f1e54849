import { Alert, Button, Group, Progress, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { unwrap } from "../../api/client";
import {
  createChecklistApiRulesChecklistsPost,
  selfCheckQuestionsApiRulesSelfCheckGet,
} from "../../api/generated/sdk.gen";
import type { SelfCheckOut } from "../../api/generated/types.gen";
import { useAuth } from "../../auth/AuthProvider";
import { AnswerInput } from "../../components/AnswerInput";
import { ErrorNote, QueryState } from "../../components/QueryState";
import { RequirementCard } from "../../components/RequirementCard";
import { type Answer, decide, withAnswer } from "./decide";
import { toSearch, useProductQuery } from "./useProductQuery";

/** The deciding questions one by one, then what applies; a signed-in user saves it as a checklist. */
export default function SelfCheck() {
  const { t } = useTranslation();
  const query = useProductQuery();
  const check = useQuery({
    queryKey: ["self-check", query],
    queryFn: () =>
      unwrap(selfCheckQuestionsApiRulesSelfCheckGet({ query: query ?? { market: "" } })),
    enabled: query !== null,
  });
  if (!query) {
    return (
      <Alert title={t("selfCheck.title")}>
        {t("selfCheck.noProduct")} <Link to="/">{t("nav.search")}</Link>
      </Alert>
    );
  }
  return (
    <Stack>
      <Title order={1}>{t("selfCheck.title")}</Title>
      <QueryState query={check}>{(data) => <Wizard data={data} />}</QueryState>
    </Stack>
  );
}

function Wizard({ data }: { data: SelfCheckOut }) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const navigate = useNavigate();
  const query = useProductQuery();
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [step, setStep] = useState(0);
  const questions = data.questions;
  const done = step >= questions.length;
  const question = questions[step];
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        createChecklistApiRulesChecklistsPost({
          body: {
            market: data.market.code,
            hs_code: data.matched.hs_code,
            category: data.matched.category?.id ?? null,
            answers,
          },
        }),
      ),
    onSuccess: (checklist) => navigate(`/checklists/${checklist.id}`),
  });

  const decided = data.requirements.map((r) => ({ r, d: decide(r, answers) }));
  const applies = decided.filter((x) => x.d === "applies");
  const open = decided.filter((x) => x.d === "open");

  return (
    <Stack>
      <Text c="dimmed">
        {data.market.name} ·{" "}
        {data.matched.category?.name ?? data.matched.hs_code_dotted ?? data.matched.hs_code}
      </Text>
      <Progress
        value={questions.length ? (Math.min(step, questions.length) / questions.length) * 100 : 100}
        aria-label={t("selfCheck.progress")}
      />
      {!done && question && (
        <Stack component="section" aria-labelledby="question">
          <Text size="sm" c="dimmed">
            {t("selfCheck.question", { n: step + 1, of: questions.length })}
          </Text>
          <AnswerInput
            key={question.id}
            id="question"
            question={question}
            label={
              <Title order={2} size="h3">
                {question.text}
              </Title>
            }
            value={answers[question.id]}
            onChange={(answer) => setAnswers(withAnswer(answers, question.id, answer))}
          />
          <Group>
            <Button variant="default" disabled={step === 0} onClick={() => setStep(step - 1)}>
              {t("common.back")}
            </Button>
            <Button disabled={!(question.id in answers)} onClick={() => setStep(step + 1)}>
              {t("common.next")}
            </Button>
          </Group>
        </Stack>
      )}
      {done && (
        <Stack>
          <Title order={2}>{t("selfCheck.result", { count: applies.length })}</Title>
          {save.isError && <ErrorNote error={save.error} />}
          <Group>
            {user?.role === "customer" ? (
              <Button onClick={() => save.mutate()} loading={save.isPending}>
                {t("selfCheck.save")}
              </Button>
            ) : !user ? (
              <Button
                component={Link}
                to={`/sign-in?next=${encodeURIComponent(`/self-check?${toSearch(query ?? { market: "" })}`)}`}
              >
                {t("selfCheck.signInToSave")}
              </Button>
            ) : null}
            <Button variant="default" onClick={() => setStep(0)}>
              {t("selfCheck.again")}
            </Button>
          </Group>
          {applies.map(({ r }) => (
            <RequirementCard key={r.code} requirement={r} status="applies" />
          ))}
          {open.map(({ r }) => (
            <RequirementCard key={r.code} requirement={r} status="open" />
          ))}
        </Stack>
      )}
    </Stack>
  );
}
