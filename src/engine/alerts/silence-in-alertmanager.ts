/** Creates silences in Alertmanager (API v2), so a received alert silenced from chat is silenced at its source too. */
export type SilenceAtSource = (input: { labels: Record<string, string>; endsAt: string; createdBy: string; comment: string }) => Promise<string>;

/**
 * A silence matching every label of the alert exactly (what Alertmanager's own "silence" link does), bounded
 * by a timeout. Resolves to Alertmanager's silence id; rejects with a message naming what went wrong.
 */
export function silenceInAlertmanager(baseUrl: string, opts: { timeoutMs?: number; now?: () => Date } = {}): SilenceAtSource {
  const now = opts.now ?? (() => new Date());
  return async ({ labels, endsAt, createdBy, comment }) => {
    const body = {
      matchers: Object.entries(labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
      startsAt: now().toISOString(),
      endsAt,
      createdBy,
      comment,
    };
    let res: Response;
    try {
      res = await fetch(`${baseUrl}/api/v2/silences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
      });
    } catch (err) {
      throw new Error(`Alertmanager at ${baseUrl} did not answer: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`Alertmanager answered ${res.status}: ${text.slice(0, 200).trim()}`);
    const id = (JSON.parse(text) as { silenceID?: unknown }).silenceID;
    if (typeof id !== 'string') throw new Error('Alertmanager answered without a silence id');
    return id;
  };
}
