/**
 * A round of work (an outbox drain, a schedule pass) that is never run twice at once: a call while one runs
 * shares it and makes it go round once more, so nothing asked for in the meantime is missed. `after` runs
 * after every round, also a failed one (to arm the next timer).
 */
export function createCoalescedRound(round: () => Promise<number>, opts: { onError(err: unknown): void; after(): Promise<void> }) {
  let running: Promise<number> | undefined;
  let again = false;
  return {
    run(): Promise<number> {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        let n = 0;
        try {
          do {
            again = false;
            n += await round();
          } while (again);
        } catch (err) {
          opts.onError(err);
        } finally {
          running = undefined;
        }
        await opts.after();
        return n;
      })();
      return running;
    },
    /** The round in progress, if any (await it when stopping). */
    current: (): Promise<number> | undefined => running,
  };
}
