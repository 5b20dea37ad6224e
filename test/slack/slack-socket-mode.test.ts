import { afterEach, describe, expect, it } from 'vitest';
import { FakeSlack } from './fake-slack.js';
import { APP_TOKEN, startHarness, type SlackHarness } from './slack-harness.js';

let h: SlackHarness | undefined;
let fake: FakeSlack | undefined;
afterEach(async () => {
  await h?.close();
  await fake?.close();
});

describe('Slack Socket Mode', () => {
  it('connects with the app token and answers a slash command envelope in its ack', async () => {
    fake = await FakeSlack.start();
    h = await startHarness({ mode: 'socket', fake });
    await h.admin('role grant slack:UANA operator');
    expect(fake.callsTo('apps.connections.open')[0]?.token).toBe(APP_TOKEN);
    await fake.waitFor('the app to connect', () => fake!.socketCount === 1);

    fake.sendEnvelope({
      envelope_id: 'env-1',
      type: 'slash_commands',
      accepts_response_payload: true,
      payload: {
        token: 'unused',
        team_id: 'TFAKE',
        team_domain: 'fake',
        channel_id: 'CINCIDENT',
        channel_name: 'incident',
        user_id: 'UANA',
        user_name: 'ana',
        command: '/infra',
        text: 'breaker trip web --reason "upstream timeouts" --yes',
        api_app_id: 'AFAKE',
        is_enterprise_install: 'false',
        response_url: fake.responseUrl('socket-1'),
        trigger_id: '777.888.socket',
      },
    });
    await fake.waitFor('the ack', () => fake!.socketMessages.some((m) => m.envelope_id === 'env-1'));
    const ack = fake.socketMessages.find((m) => m.envelope_id === 'env-1')!;
    const payload = ack.payload as { response_type: string; blocks: unknown[] };
    expect(payload.response_type).toBe('in_channel');
    expect(JSON.stringify(payload.blocks)).toContain('Breaker of web tripped');
    const events = (await h.store.events({})).map((e) => e.event.type);
    expect(events).toContain('breaker.tripped');
  });
});
