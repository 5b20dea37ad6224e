import type { ControlSnapshot } from '@infrabot/guard';

export interface SseEvent {
  event: string;
  id: string;
  data: ControlSnapshot;
}

/** The complete server-sent events at the start of `buffer` (comments skipped), and what is left of it. */
export function takeSseEvents(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  let i;
  while ((i = buffer.indexOf('\n\n')) >= 0) {
    const block = buffer.slice(0, i);
    buffer = buffer.slice(i + 2);
    const f: Record<string, string | undefined> = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
    if (f.event && f.id !== undefined && f.data !== undefined) events.push({ event: f.event, id: f.id, data: JSON.parse(f.data) as ControlSnapshot });
  }
  return { events, rest: buffer };
}
