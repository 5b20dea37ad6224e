/** A value echoed in an error, in quotes: a long paste is shown by its start and its length, never in full. */
export function quoteForMessage(v: string): string {
  return v.length > 60 ? `"${v.slice(0, 40)}…" (${v.length.toLocaleString('en-US')} characters)` : `"${v}"`;
}
