/**
 * What to log about a failed Discord call. REST errors carry the request URL, and interaction and webhook
 * URLs embed a token (valid 15 minutes); keep the status and message, and mask anything token-shaped.
 */
export function safeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { status?: number; code?: number | string; method?: string; url?: string; retryAfter?: number };
  return {
    type: e.name,
    message: maskTokens(e.message),
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.method ? { method: e.method } : {}),
    ...(e.url ? { url: maskTokens(e.url) } : {}),
    ...(e.retryAfter !== undefined ? { retryAfter: e.retryAfter } : {}),
  };
}

/** `/webhooks/123/aW50ZXJhY3Rpb24…` → `/webhooks/123/[token]`; the same for interaction callbacks. */
export function maskTokens(text: string): string {
  return text
    .replace(/(\/webhooks\/\d+\/)[^/?\s]+/g, '$1[token]')
    .replace(/(\/interactions\/\d+\/)[^/?\s]+/g, '$1[token]');
}
