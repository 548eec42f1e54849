import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { client } from "../../api/client";
import DeadLetters from "./DeadLetters";

const LETTER = {
  id: 7,
  queue: "common",
  event_id: "e-1",
  event_type: "mail.requested",
  event_source: "/clearway/identity",
  subject: null,
  data: { template: "welcome" },
  attempts: 5,
  last_error: "KeyError: 'user_id'",
  failed_at: "2026-12-01T10:00:00Z",
};

function json(body: unknown, status = 200, type = "application/json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
}

/** The API as the page sees it: `answer` decides each response; every request is kept. */
function serve(answer: (request: Request) => Response) {
  const requests: Request[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push(request.clone());
    return answer(request);
  });
  client.setConfig({ baseUrl: "http://clearway.test", fetch });
  return requests;
}

function show() {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <MantineProvider>
      <QueryClientProvider client={queries}>
        <MemoryRouter>
          <DeadLetters />
        </MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}

afterEach(() => {
  cleanup();
  client.setConfig({ baseUrl: "", fetch: globalThis.fetch });
});

describe("DeadLetters", () => {
  it("lists a dead letter and replays the selected one after confirmation", async () => {
    let replayed = false;
    const requests = serve((request) => {
      if (request.method === "POST") {
        replayed = true;
        return json({ replayed: 1 });
      }
      return json(replayed ? [] : [LETTER]);
    });
    show();
    const row = await screen.findByRole("row", { name: /mail\.requested/ });
    expect(row).toHaveTextContent("KeyError: 'user_id'");
    await userEvent.click(within(row).getByRole("checkbox", { name: "Select mail.requested #7" }));
    await userEvent.click(screen.getByRole("button", { name: "Replay 1 selected" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Replay" }));
    expect(await screen.findByText("1 dead letter replayed.")).toBeInTheDocument();
    const post = requests.find((r) => r.method === "POST");
    expect(post?.url).toBe("http://clearway.test/api/common/dead-letters/replay");
    expect(await post?.json()).toEqual({ ids: [7] });
    expect(await screen.findByText("No dead letters.")).toBeInTheDocument();
  });

  it("shows a refused replay's problem detail in words", async () => {
    serve((request) =>
      request.method === "POST"
        ? json(
            {
              title: "Not Found",
              status: 404,
              detail: "None of these dead letters exists (any more).",
            },
            404,
            "application/problem+json",
          )
        : json([LETTER]),
    );
    show();
    await screen.findByRole("row", { name: /mail\.requested/ });
    await userEvent.click(screen.getByRole("button", { name: "Replay all (1)" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Replay" }));
    await waitFor(() =>
      expect(within(dialog).getByRole("alert")).toHaveTextContent(
        "None of these dead letters exists (any more).",
      ),
    );
  });
});
