import { Anchor, Badge, Button, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { unwrap } from "../../api/client";
import { searchApiRulesSearchGet } from "../../api/generated/sdk.gen";
import { flagOf } from "../../components/flags";
import { MarketSelect } from "../../components/MarketSelect";
import { type Product, ProductInput } from "../../components/ProductInput";
import { QueryState } from "../../components/QueryState";
import { RequirementCard } from "../../components/RequirementCard";
import { type ProductQuery, toSearch, useProductQuery } from "./useProductQuery";

export default function Landing() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const current = useProductQuery();
  const [product, setProduct] = useState<Product>({
    text: current?.q ?? current?.hs_code ?? current?.category ?? "",
    ...(current?.hs_code ? { hs_code: current.hs_code } : {}),
    ...(current?.category ? { category: current.category } : {}),
  });
  const [market, setMarket] = useState<string | null>(current?.market ?? null);
  const [missing, setMissing] = useState(false);

  function submit(event: React.FormEvent) {
    event.preventDefault();
    if (!market || !product.text.trim()) {
      setMissing(true);
      return;
    }
    const query: ProductQuery = { market };
    if (product.hs_code) query.hs_code = product.hs_code;
    else if (product.category) query.category = product.category;
    else if (/^\d[\d.\s]{1,12}$/.test(product.text.trim()))
      query.hs_code = product.text.replace(/[.\s]/g, "");
    else query.q = product.text.trim();
    navigate(`/?${toSearch(query)}`);
  }

  return (
    <Stack gap="lg">
      <Paper p="lg" radius="md" bg="brand.0">
        <Title order={1}>{t("landing.title")}</Title>
        <Text mt="xs" mb="md">
          {t("landing.subtitle")}
        </Text>
        <search aria-label={t("landing.searchLabel")}>
          <form onSubmit={submit}>
            <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
              <div style={{ gridColumn: "span 1" }} className="product-cell">
                <ProductInput value={product} onChange={setProduct} />
              </div>
              <MarketSelect
                value={market}
                onChange={setMarket}
                error={missing && !market ? t("search.pickMarket") : undefined}
              />
              <Button type="submit" mt={{ base: 0, sm: 46 }}>
                {t("search.submit")}
              </Button>
            </SimpleGrid>
            {missing && !product.text.trim() && (
              <Text c="red.8" size="sm" mt="xs" role="alert">
                {t("search.enterProduct")}
              </Text>
            )}
          </form>
        </search>
      </Paper>
      {current ? <Results query={current} /> : <Intro />}
    </Stack>
  );
}

function Intro() {
  const { t } = useTranslation();
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }}>
      {(["look", "check", "clear"] as const).map((step) => (
        <Paper key={step} withBorder p="md">
          <Title order={2} size="h4">
            {t(`landing.steps.${step}.title`)}
          </Title>
          <Text size="sm" mt={4}>
            {t(`landing.steps.${step}.body`)}
          </Text>
        </Paper>
      ))}
    </SimpleGrid>
  );
}

function Results({ query }: { query: ProductQuery }) {
  const { t } = useTranslation();
  const search = useQuery({
    queryKey: ["search", query],
    queryFn: () => unwrap(searchApiRulesSearchGet({ query: { ...query, limit: 100 } })),
  });
  return (
    <QueryState query={search}>
      {(result) => {
        const mandatory = result.items.filter((r) => !r.conditional);
        const conditional = result.items.filter((r) => r.conditional);
        const matched = result.matched;
        const readAs =
          matched.category?.name ??
          (matched.hs_code
            ? `${matched.hs_code_dotted ?? matched.hs_code} ${matched.hs_description ?? ""}`
            : null);
        return (
          <Stack gap="md" aria-live="polite">
            <Group justify="space-between" wrap="wrap">
              <div>
                <Title order={2}>
                  {flagOf(result.market.code)}{" "}
                  {t("results.title", { market: result.market.name, count: result.total })}
                </Title>
                {readAs && (
                  <Text size="sm" c="dimmed">
                    {t("results.readAs")}: <strong>{readAs}</strong>
                  </Text>
                )}
              </div>
              {conditional.length > 0 && (
                <Button
                  component={Link}
                  to={`/self-check?${toSearch(query)}`}
                  variant="filled"
                  color="brand"
                >
                  {t("results.selfCheck")}
                </Button>
              )}
            </Group>
            {result.alternatives.length > 0 && (
              <Group gap="xs" aria-label={t("results.alternatives")}>
                <Text size="sm">{t("results.alternatives")}:</Text>
                {result.alternatives.slice(0, 4).map((alt) => (
                  <Anchor
                    key={`${alt.kind}-${alt.key}`}
                    component={Link}
                    size="sm"
                    to={`/?${toSearch({ market: query.market, ...(alt.kind === "category" ? { category: alt.key } : { hs_code: alt.key }) })}`}
                  >
                    <Badge variant="outline" style={{ cursor: "pointer", textTransform: "none" }}>
                      {alt.kind === "category"
                        ? alt.name
                        : `${alt.key} ${alt.name.slice(0, 40)}${alt.name.length > 40 ? "…" : ""}`}
                    </Badge>
                  </Anchor>
                ))}
              </Group>
            )}
            {result.total === 0 && <Text>{t("results.none")}</Text>}
            {mandatory.length > 0 && (
              <section aria-labelledby="mandatory">
                <Title order={3} id="mandatory" mb="xs">
                  {t("results.mandatory", { count: mandatory.length })}
                </Title>
                <Stack>
                  {mandatory.map((r) => (
                    <RequirementCard key={r.code} requirement={r} />
                  ))}
                </Stack>
              </section>
            )}
            {conditional.length > 0 && (
              <section aria-labelledby="conditional">
                <Title order={3} id="conditional" mb="xs">
                  {t("results.conditional", { count: conditional.length })}
                </Title>
                <Stack>
                  {conditional.map((r) => (
                    <RequirementCard key={r.code} requirement={r} />
                  ))}
                </Stack>
              </section>
            )}
          </Stack>
        );
      }}
    </QueryState>
  );
}
