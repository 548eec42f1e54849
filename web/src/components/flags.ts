/** A market's flag: the regional-indicator emoji for a country, a fixed one for unions. */
const UNION_FLAGS: Record<string, string> = { EU: "🇪🇺", EAEU: "🌐", GCC: "🌐" };

export function flagOf(code: string): string {
  if (UNION_FLAGS[code]) return UNION_FLAGS[code];
  if (!/^[A-Z]{2}$/.test(code)) return "🌐";
  return String.fromCodePoint(...[...code].map((c) => 0x1f1e6 + c.charCodeAt(0) - 65));
}
