import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WORKING_ON_IT } from '../../src/chat/slack/handle-slash-command.js';
import { FAKE_BOT_USER_ID } from './fake-slack.js';
import { buttonClickBody, postSigned, slashCommandBody, slackSignature } from './slack-requests.js';
import { SIGNING_SECRET, startHarness, type SlackHarness } from './slack-harness.js';

let h: SlackHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.close());

type Block = { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: Record<string, unknown>[] };
const blocksOf = (body: Record<string, unknown>) => (body.blocks ?? []) as Block[];
const headerOf = (body: Record<string, unknown>) => blocksOf(body).find((b) => b.type === 'header')?.text?.text;
/** Control changes made by Slack users (role grants made during setup are left out). */
const controlEvents = async () => (await h.store.events({})).filter((e) => !e.event.type.startsWith('role.'));
const allText = (body: Record<string, unknown>) => JSON.stringify(body.blocks ?? []) + String(body.text ?? '');

function slash(text: string, extra: Partial<Parameters<typeof slashCommandBody>[0]> = {}, id = `r${Math.random().toString(36).slice(2)}`) {
  return { body: slashCommandBody({ text, response_url: h.fake.responseUrl(id), ...extra }), responseId: id };
}

describe('Slack slash command over HTTP (real Bolt receiver, fake Slack)', () => {
  it('answers a control change in the channel and records who did it', async () => {
    await h.admin('role grant slack:UANA operator --cluster api');
    const { body } = slash('ratelimit set api --per-minute 300', { user_id: 'UANA', user_name: 'ana', channel_id: 'CINCIDENT' });
    const res = await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET });

    expect(res.status).toBe(200);
    const ack = res.json();
    expect(ack.response_type).toBe('in_channel');
    expect(headerOf(ack)).toContain('Rate limits of api changed');
    expect(allText(ack)).toContain('300/min');
    expect(String(ack.text)).toContain('Rate limits of api changed');

    const show = await h.admin('ratelimit show api');
    expect(show.table?.rows[0]?.[1]).toBe('300');
    const [audit] = await h.store.searchAudit({ limit: 5, userId: 'slack:UANA' });
    expect(audit).toMatchObject({ platform: 'slack', userId: 'slack:UANA', userName: 'ana', channel: 'CINCIDENT', outcome: 'ok' });
  });

  it('acks a slow command with "working on it" and replaces it through response_url', async () => {
    await h.admin('role grant slack:UANA viewer');
    const { body, responseId } = slash('slowreport');
    const res = await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET });

    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ response_type: 'ephemeral', text: WORKING_ON_IT });
    expect(h.fake.responsesTo(responseId)).toHaveLength(0);

    await h.fake.waitFor('the final reply', () => h.fake.responsesTo(responseId).length > 0);
    const [final] = h.fake.responsesTo(responseId);
    expect(final).toMatchObject({ replace_original: true, response_type: 'ephemeral' });
    expect(headerOf(final!)).toContain('Slow report ready');
  });

  it('shows a denial only to the caller and changes nothing', async () => {
    const { body } = slash('cluster disable api --reason "bad deploy" --yes', { user_id: 'UEVE', user_name: 'eve' });
    const res = await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET });

    const ack = res.json();
    expect(ack.response_type).toBe('ephemeral');
    expect(headerOf(ack)).toContain('Not allowed');
    expect(allText(ack)).toContain('needs the operator role');
    expect(await controlEvents()).toHaveLength(0);
    const [audit] = await h.store.searchAudit({ limit: 5 });
    expect(audit).toMatchObject({ userId: 'slack:UEVE', outcome: 'denied' });
  });

  it('rejects a forged signature and a stale timestamp with 401 and runs nothing', async () => {
    await h.admin('role grant slack:UANA operator');
    const before = (await h.store.searchAudit({ limit: 100 })).length;
    const { body } = slash('cluster disable api --reason "forged" --yes');

    const forged = await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET, signature: slackSignature('wrong-secret', Math.floor(Date.now() / 1000), body) });
    expect(forged.status).toBe(401);
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    const stale = await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET, timestamp: tenMinutesAgo });
    expect(stale.status).toBe(401);

    expect(await controlEvents()).toHaveLength(0);
    expect(await h.store.searchAudit({ limit: 100 })).toHaveLength(before);
  });

  it('executes a retried delivery once', async () => {
    await h.admin('role grant slack:UANA operator');
    const { body } = slash('ratelimit set api --per-minute 250', { trigger_id: '555.666.retryme' });
    const first = await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET });
    const retry = await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET, retryNum: 1 });

    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    expect(retry.text).toBe('');
    const audit = (await h.store.searchAudit({ limit: 100 })).filter((a) => a.invocationId === '555.666.retryme');
    expect(audit).toHaveLength(1);
    expect(await controlEvents()).toHaveLength(1);
  });

  it('executes a delivery retried to a second replica once, answering it with the first reply', async () => {
    // The retry lands on another process (a second Bolt app over the same SQLite data dir), whose in-memory
    // RecentDeliveries has never seen it: only the stored idempotency key can stop it running twice.
    const replica = await startHarness({ fake: h.fake, dir: h.dir });
    try {
      await h.admin('role grant slack:UANA operator');
      const { body } = slash('ratelimit set api --per-minute 260', { trigger_id: '777.888.otherreplica' });
      const first = await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET });
      const retry = await postSigned(replica.eventsUrl, body, { secret: SIGNING_SECRET, retryNum: 1 });

      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(headerOf(first.json())).toContain('Rate limits of api changed');
      expect(retry.json()).toEqual(first.json()); // the same reply, trace id and all
      const audit = (await h.store.searchAudit({ limit: 100 })).filter((a) => a.invocationId === '777.888.otherreplica');
      expect(audit).toHaveLength(1);
      expect(await controlEvents()).toHaveLength(1);
      expect((await h.admin('ratelimit show api')).table?.rows[0]?.[1]).toBe('260');
    } finally {
      await replica.close();
    }
  });

  it('confirms a dangerous cluster disable with a button, re-authorizing the clicker, and updates the message', async () => {
    await h.admin('role grant slack:UANA operator --cluster api');
    const { body } = slash('cluster disable api --reason "bad deploy"');
    const prompt = (await postSigned(h.eventsUrl, body, { secret: SIGNING_SECRET })).json();
    expect(prompt.response_type).toBe('ephemeral');
    const buttons = blocksOf(prompt).find((b) => b.type === 'actions')?.elements ?? [];
    const confirm = buttons.find((b) => (b.text as { text: string }).text === 'Confirm');
    expect(confirm).toMatchObject({ style: 'danger' });
    expect(await controlEvents()).toHaveLength(0);

    // Someone without a role clicking the same button is refused privately; the prompt stays.
    const eveUrl = 'click-eve';
    await postSigned(h.eventsUrl, buttonClickBody({ value: String(confirm!.value), label: 'Confirm', user_id: 'UEVE', user_name: 'eve', response_url: h.fake.responseUrl(eveUrl), ephemeral: true }), { secret: SIGNING_SECRET });
    await h.fake.waitFor('the denial', () => h.fake.responsesTo(eveUrl).length > 0);
    expect(h.fake.responsesTo(eveUrl)[0]).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(headerOf(h.fake.responsesTo(eveUrl)[0]!)).toContain('Not allowed');
    expect(await controlEvents()).toHaveLength(0);

    const anaUrl = 'click-ana';
    const click = await postSigned(h.eventsUrl, buttonClickBody({ value: String(confirm!.value), label: 'Confirm', response_url: h.fake.responseUrl(anaUrl), ephemeral: true }), { secret: SIGNING_SECRET });
    expect(click.status).toBe(200);
    await h.fake.waitFor('the result', () => h.fake.responsesTo(anaUrl).length >= 2);
    const [removePrompt, result] = h.fake.responsesTo(anaUrl);
    expect(removePrompt).toEqual({ delete_original: true });
    expect(result).toMatchObject({ response_type: 'in_channel', replace_original: false });
    expect(headerOf(result!)).toContain('Cluster api disabled');
    expect(allText(result!)).toContain('Confirmed by <@UANA>');

    const events = await controlEvents();
    expect(events.map((e) => e.event.type)).toEqual(['cluster.disabled']);
    const audit = (await h.store.searchAudit({ limit: 20 })).filter((a) => a.platform === 'slack');
    expect(audit.map((a) => [a.userId, a.outcome]).sort()).toEqual([
      ['slack:UANA', 'confirm'],
      ['slack:UANA', 'ok'],
      ['slack:UEVE', 'denied'],
    ]);
  });

  it('replaces the prompt with the pipeline\'s "Cancelled" reply when Cancel is clicked', async () => {
    await h.admin('role grant slack:UANA operator');
    const prompt = (await postSigned(h.eventsUrl, slash('cluster disable api --reason "bad deploy"').body, { secret: SIGNING_SECRET })).json();
    const buttons = blocksOf(prompt).find((b) => b.type === 'actions')?.elements ?? [];
    const [confirm, cancel] = buttons.map((b) => ({ value: String(b.value), label: (b.text as { text: string }).text }));
    expect(cancel!.label).toBe('Cancel');

    // The click as Slack sends it; what it does and says is the pipeline's answer, not the button's label.
    const url = 'click-cancel';
    await postSigned(h.eventsUrl, buttonClickBody({ ...cancel!, response_url: h.fake.responseUrl(url), ephemeral: true }), { secret: SIGNING_SECRET });
    await h.fake.waitFor('the cancel reply', () => h.fake.responsesTo(url).length > 0);
    const responses = h.fake.responsesTo(url);
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ response_type: 'ephemeral', replace_original: true });
    expect(headerOf(responses[0]!)).toContain('Cancelled');
    expect(allText(responses[0]!)).toContain('Nothing was changed: `cluster disable api --reason \\"bad deploy\\"` was not run.');
    expect(blocksOf(responses[0]!).some((b) => b.type === 'actions')).toBe(false);

    // The confirmation is answered: a late Confirm is refused privately and runs nothing.
    const late = 'click-late';
    await postSigned(h.eventsUrl, buttonClickBody({ ...confirm!, response_url: h.fake.responseUrl(late), ephemeral: true }), { secret: SIGNING_SECRET });
    await h.fake.waitFor('the refusal', () => h.fake.responsesTo(late).length > 0);
    expect(h.fake.responsesTo(late)[0]).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(headerOf(h.fake.responsesTo(late)[0]!)).toContain('Already answered');
    expect(await controlEvents()).toHaveLength(0);
  });

  // What Slack sends for `--reason "@channel see <https://evil.example|the runbook>"` (should_escape: @channel
  // becomes an entity, typed angle brackets arrive HTML-escaped), and the fully escaped form.
  it.each([
    ['as Slack escapes it', 'cluster disable api --reason "<!channel> see &lt;https://evil.example|the runbook&gt;"'],
    ['fully HTML-escaped', 'cluster disable api --reason "&lt;!channel&gt; see &lt;https://evil.example|the runbook&gt;"'],
  ])('never turns user text into a live @channel or link (%s)', async (_, text) => {
    await h.admin('role grant slack:UANA operator');
    const live = /<!channel>|<https?:\/\//;
    const prompt = (await postSigned(h.eventsUrl, slash(text).body, { secret: SIGNING_SECRET })).json();
    expect(prompt.response_type).toBe('ephemeral');
    expect(allText(prompt)).toContain('&lt;!channel&gt; see &lt;https://evil.example|the runbook&gt;'); // shown, as text
    expect(allText(prompt)).not.toMatch(live);

    const confirm = (blocksOf(prompt).find((b) => b.type === 'actions')?.elements ?? [])[0]!;
    const url = 'click-inject';
    await postSigned(h.eventsUrl, buttonClickBody({ value: String(confirm.value), label: 'Confirm', response_url: h.fake.responseUrl(url), ephemeral: true }), { secret: SIGNING_SECRET });
    await h.fake.waitFor('the result', () => h.fake.responsesTo(url).length >= 2);
    const result = h.fake.responsesTo(url)[1]!;
    expect(result).toMatchObject({ response_type: 'in_channel' });
    expect(allText(result)).toContain('Reason: &lt;!channel&gt; see &lt;https://evil.example|the runbook&gt;');
    expect(allText(result)).not.toMatch(live);
    expect(allText(result)).toContain('Confirmed by <@UANA>'); // the one mention, made by the adapter on purpose
    const [event] = await controlEvents();
    expect(JSON.stringify(event!.event)).toContain('<!channel> see <https://evil.example|the runbook>'); // stored as typed
  });

  it('answers an @infrabot mention inside an incident thread', async () => {
    await h.admin('role grant slack:UANA operator');
    const event = {
      token: 'unused',
      team_id: 'TFAKE',
      api_app_id: 'AFAKE',
      type: 'event_callback',
      event_id: 'Ev123',
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: 'TFAKE', user_id: FAKE_BOT_USER_ID, is_bot: true }],
      event: {
        type: 'app_mention',
        user: 'UANA',
        text: `<@${FAKE_BOT_USER_ID}> breaker trip api --reason "timeouts to db" --yes`,
        channel: 'CINCIDENT',
        ts: '1700000100.000200',
        thread_ts: '1700000000.000100',
        event_ts: '1700000100.000200',
      },
    };
    const raw = JSON.stringify(event);
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(h.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(SIGNING_SECRET, ts, raw) },
      body: raw,
    });
    expect(res.status).toBe(200);
    await h.fake.waitFor('the thread reply', () => h.fake.callsTo('chat.postMessage').length > 0);
    const [post] = h.fake.callsTo('chat.postMessage');
    expect(post!.params).toMatchObject({ channel: 'CINCIDENT', thread_ts: '1700000000.000100' });
    expect(JSON.stringify(post!.params.blocks)).toMatch(/[Bb]reaker/);
    const [audit] = await h.store.searchAudit({ limit: 5, command: 'breaker' });
    expect(audit).toMatchObject({ platform: 'slack', userId: 'slack:UANA', invocationId: 'Ev123', outcome: 'ok' });
  });

  it('applies roles granted to a Slack user group', async () => {
    h.fake.userGroups = [{ id: 'S0ONCALL', handle: 'oncall', users: ['UBOB'] }];
    await h.admin('role grant slack-group:S0ONCALL viewer');
    const res = await postSigned(h.eventsUrl, slash('status', { user_id: 'UBOB', user_name: 'bob' }).body, { secret: SIGNING_SECRET });
    const ack = res.json();
    expect(headerOf(ack)).toBe(':information_source: infrabot status');
    expect(allText(ack)).toMatch(/api[\s\S]*db[\s\S]*web/);
    expect(h.fake.callsTo('usergroups.list')[0]?.params).toMatchObject({ include_users: true });
  });

  it('keeps working when usergroups.list fails', async () => {
    h.fake.failNext('usergroups.list', { status: 500 }, 10);
    await h.admin('role grant slack:UANA viewer');
    const ack = (await postSigned(h.eventsUrl, slash('status').body, { secret: SIGNING_SECRET })).json();
    expect(headerOf(ack)).toBe(':information_source: infrabot status');
    expect(allText(ack)).toMatch(/api[\s\S]*db[\s\S]*web/);
  });

  it('never logs the tokens or the signing secret', async () => {
    await postSigned(h.eventsUrl, slash('status').body, { secret: SIGNING_SECRET });
    const logged = h.logs.text();
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).not.toContain('secretbottoken');
    expect(logged).not.toContain(SIGNING_SECRET);
  });
});
