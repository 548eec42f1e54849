import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../../api/client";
import RuleImport from "./RuleImport";

const FILE = "format: clearway-rules/1\nrules: []\n";

function plan(dryRun: boolean) {
  return {
    dry_run: dryRun,
    file: "new.yaml",
    counts: { create: 1, unchanged: 1 },
    items: [
      {
        code: "GB-NEW",
        file: "new.yaml",
        line: 3,
        action: "create",
        version: 1,
        changes: { title: { from: null, to: "A new rule" }, categories: { from: null, to: [] } },
      },
      { code: "GB-OLD", file: "new.yaml", line: 12, action: "unchanged", version: 2, changes: {} },
    ],
  };
}

// jsdom's File has no text() (browsers have); read it the old way.
File.prototype.text ??= function (this: File) {
  return new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(this);
  });
};

afterEach(() => {
  cleanup();
  client.setConfig({ baseUrl: "", fetch: globalThis.fetch });
});

describe("RuleImport", () => {
  it("previews every change by a dry run, and writes only when applied", async () => {
    const calls: { url: URL; body: string; type: string | null }[] = [];
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      calls.push({ url, body: await request.text(), type: request.headers.get("content-type") });
      if (url.pathname === "/api/rules/markets") return Response.json({ items: [] });
      return Response.json(plan(url.searchParams.get("dry_run") === "true"));
    });
    client.setConfig({ baseUrl: "http://clearway.test", fetch });
    render(
      <MantineProvider>
        <QueryClientProvider client={new QueryClient()}>
          <MemoryRouter>
            <RuleImport />
          </MemoryRouter>
        </QueryClientProvider>
      </MantineProvider>,
    );
    const imports = () => calls.filter((c) => c.url.pathname === "/api/rules/admin/import");

    const input = document.querySelector<HTMLInputElement>("input[type=file]");
    if (!input) throw new Error("no file input");
    await userEvent.upload(input, new File([FILE], "new.yaml", { type: "application/yaml" }));
    await userEvent.click(screen.getByRole("button", { name: "Preview changes (dry run)" }));

    const table = await screen.findByRole("table", { name: "Changes the file makes" });
    const created = within(table).getByRole("row", { name: /GB-NEW/ });
    expect(created).toHaveTextContent("new.yaml:3");
    expect(created).toHaveTextContent("A new rule");
    // An empty list where there was nothing is no change worth a line.
    expect(created).not.toHaveTextContent("Categories");
    expect(within(table).getByRole("row", { name: /GB-OLD/ })).toHaveTextContent("Unchanged");
    expect(screen.getByText("new.yaml would make 1 change.")).toBeInTheDocument();
    expect(imports()).toHaveLength(1);
    expect(imports()[0]?.url.searchParams.get("dry_run")).toBe("true");
    expect(imports()[0]?.url.searchParams.get("filename")).toBe("new.yaml");
    expect(imports()[0]?.body).toBe(FILE);
    expect(imports()[0]?.type).toBe("application/yaml");

    await userEvent.click(screen.getByRole("button", { name: "Apply 1 change" }));
    expect(await screen.findByText("new.yaml: 1 change applied.")).toBeInTheDocument();
    expect(imports()).toHaveLength(2);
    expect(imports()[1]?.url.searchParams.get("dry_run")).toBe("false");
    expect(imports()[1]?.body).toBe(FILE);
  });
});
