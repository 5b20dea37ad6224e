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
    expect(headerOf(ack)).not.toContain('Not allowed');
    expect(allText(ack)).toContain('api');
    expect(h.fake.callsTo('usergroups.list')[0]?.params).toMatchObject({ include_users: true });
  });

  it('keeps working when usergroups.list fails', async () => {
    h.fake.failNext('usergroups.list', { status: 500 }, 10);
    await h.admin('role grant slack:UANA viewer');
    const ack = (await postSigned(h.eventsUrl, slash('status').body, { secret: SIGNING_SECRET })).json();
    expect(headerOf(ack)).not.toContain('Not allowed');
  });

  it('never logs the tokens or the signing secret', async () => {
    await postSigned(h.eventsUrl, slash('status').body, { secret: SIGNING_SECRET });
    const logged = h.logs.text();
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).not.toContain('secretbottoken');
    expect(logged).not.toContain(SIGNING_SECRET);
  });
});
