import { useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import type { ProfileOut } from "../api/generated/types.gen";
import * as session from "./session";

export type Role = "customer" | "provider" | "admin";

type Auth = {
  /** undefined while the session is being restored on load. */
  user: ProfileOut | null | undefined;
  signIn: (email: string, password: string, otp?: string) => Promise<ProfileOut>;
  signOut: () => Promise<void>;
};

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<ProfileOut | null | undefined>(undefined);
  const queries = useQueryClient();

  useEffect(() => {
    session.whenExpired(() => setUser(null));
    let live = true;
    void session.refresh().then((restored) => {
      if (live) setUser(restored);
    });
    return () => {
      live = false;
    };
  }, []);

  const signIn = useCallback(
    async (email: string, password: string, otp?: string) => {
      const profile = await session.login(email, password, otp);
      queries.clear();
      setUser(profile);
      return profile;
    },
    [queries],
  );
  const signOut = useCallback(async () => {
    // Signed out here at once; the server's end of the session follows.
    const ending = session.logout();
    queries.clear();
    setUser(null);
    await ending;
  }, [queries]);

  return <AuthContext.Provider value={{ user, signIn, signOut }}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
