import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/client";
import type { ProfileOut } from "../../api/generated/types.gen";

const signIn = vi.fn<(email: string, password: string, otp?: string) => Promise<ProfileOut>>();
vi.mock("../../auth/AuthProvider", () => ({ useAuth: () => ({ signIn }) }));
const { SignIn } = await import("./Account");

const PROBLEMS = "https://clearway.example/problems";
const refused = (type: string, body: Record<string, unknown> = {}) =>
  new ApiError(401, "refused", `${PROBLEMS}/${type}`, { type: `${PROBLEMS}/${type}`, ...body });
const CUSTOMER = { id: "u1", role: "customer", name: "C", email: "c@example.com" } as ProfileOut;

function page() {
  render(
    <MantineProvider>
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter initialEntries={["/sign-in"]}>
          <Routes>
            <Route path="/sign-in" element={<SignIn />} />
            <Route path="/home" element={<p>customer home</p>} />
            <Route path="/account" element={<p>account page</p>} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}

async function password(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText("E-mail"), "c@example.com");
  await user.type(screen.getByLabelText("Password"), "pass-word-1");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("SignIn with a second factor", () => {
  it("asks for the code, says when it is wrong, and sends the login again with it", async () => {
    signIn.mockReset();
    signIn
      .mockRejectedValueOnce(refused("mfa-required"))
      .mockRejectedValueOnce(refused("invalid-mfa-code"))
      .mockResolvedValueOnce(CUSTOMER);
    const user = userEvent.setup();
    page();
    await password(user);
    expect(await screen.findByRole("heading", { name: "Enter your code" })).toBeVisible();
    expect(screen.queryByRole("alert")).toBeNull();

    await user.type(screen.getByLabelText(/^Code/), "000000");
    await user.click(screen.getByRole("button", { name: "Verify and sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code is wrong");

    await user.type(screen.getByLabelText(/^Code/), "123456");
    await user.click(screen.getByRole("button", { name: "Verify and sign in" }));
    expect(await screen.findByText("customer home")).toBeVisible();
    expect(signIn.mock.calls).toEqual([
      ["c@example.com", "pass-word-1"],
      ["c@example.com", "pass-word-1", "000000"],
      ["c@example.com", "pass-word-1", "123456"],
    ]);
  });

  it("shows an administrator the secret to set up, then opens the account page", async () => {
    signIn.mockReset();
    signIn
      .mockRejectedValueOnce(
        refused("mfa-setup-required", {
          secret: "JBSWY3DPEHPK3PXP",
          otpauth_uri: "otpauth://totp/Clearway:a?secret=JBSWY3DPEHPK3PXP&issuer=Clearway",
        }),
      )
      .mockResolvedValueOnce({ ...CUSTOMER, role: "admin" });
    const user = userEvent.setup();
    page();
    await password(user);
    expect(await screen.findByRole("heading", { name: "Set up your second factor" })).toBeVisible();
    expect(screen.getByTestId("mfa-secret")).toHaveTextContent("JBSW Y3DP EHPK 3PXP");
    expect(screen.getByTitle("QR code of the second factor's secret")).toBeInTheDocument();

    await user.type(screen.getByLabelText(/^Code/), "654321");
    await user.click(screen.getByRole("button", { name: "Verify and sign in" }));
    expect(await screen.findByText("account page")).toBeVisible();
    expect(signIn).toHaveBeenLastCalledWith("c@example.com", "pass-word-1", "654321");
  });

  it("forgets the password when the user goes back to the first step", async () => {
    signIn.mockReset();
    signIn.mockRejectedValueOnce(refused("mfa-required"));
    const user = userEvent.setup();
    page();
    await password(user);
    await user.click(await screen.findByRole("button", { name: "Sign in with another account" }));
    expect(screen.getByLabelText("E-mail")).toHaveValue("c@example.com");
    expect(screen.getByLabelText("Password")).toHaveValue("");
  });
});
