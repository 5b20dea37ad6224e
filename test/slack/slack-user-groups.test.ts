import { describe, expect, it } from 'vitest';
import type { webApi } from '@slack/bolt';
import { createSlackUserGroups } from '../../src/chat/slack/slack-user-groups.js';
import { createLogger } from '../../src/log.js';
import { logSink } from '../helpers/test-app.js';

/** Slack's usergroups.list as a test controls it: the groups it returns, or failing. */
function fakeClient() {
  const state = { users: ['UBOB'] as string[], failing: false, calls: 0 };
  const client = {
    usergroups: {
      list: async () => {
        state.calls++;
        if (state.failing) throw new Error('An API error occurred: ratelimited');
        return { ok: true, usergroups: [{ id: 'S0ONCALL', users: [...state.users] }] };
      },
    },
  } as unknown as webApi.WebClient;
  return { client, state };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

describe('Slack user-group membership', () => {
  it('expires cached memberships while Slack fails, so a revocation is not ignored forever', async () => {
    let t = 0;
    const { client, state } = fakeClient();
    const logs = logSink();
    const groups = createSlackUserGroups({ client, log: createLogger({ level: 'debug', destination: logs.stream }), ttlMs: 60_000, maxStaleMs: 300_000, now: () => t });
    expect(await groups.groupsOf('UBOB')).toEqual(['slack-group:S0ONCALL']);

    // Bob is removed from the group in Slack, and from then on usergroups.list fails.
    state.users = [];
    state.failing = true;
    t += 120_000;
    expect(await groups.groupsOf('UBOB')).toEqual(['slack-group:S0ONCALL']); // within the grace period
    await settle();
    t += 240_000; // 6 minutes after the last good answer
    expect(await groups.groupsOf('UBOB')).toEqual([]);
    await settle();
    expect(logs.text()).toContain('group role grants are not applied until Slack answers');

    // Slack answers again: current membership applies.
    state.failing = false;
    t += 60_001;
    await groups.groupsOf('UBOB');
    await settle();
    expect(await groups.groupsOf('UBOB')).toEqual([]);
    expect(state.calls).toBeGreaterThanOrEqual(4);
  });
});
