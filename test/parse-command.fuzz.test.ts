import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../commands/index.js';
import { UserError } from '../src/user-error.js';
import { parseCommand } from '../src/framework/parse-command.js';
import { createRegistry } from '../src/framework/registry.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const registry = createRegistry(COMMAND_GROUPS);
const words = ['status', 'cluster', 'disable', 'enable', 'api', 'web', '--reason', '--per-minute', '=', '"', '“', "'", '--yes', '-y', '--', 'role', 'grant', '<@U1>', 'audit', '--since', '7d', 'history', '--at', '2h', 'ratelimit', 'set', '10', '-1', 'NaN', 'breaker', 'trip', '--help', '\\', 'killswitch', 'on', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '999999999999d', '\ud83d'];
const chatText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 8 })), { maxLength: 12 }).map((w) => w.join(' ')),
);

describe('command parser under random text', () => {
  it('never throws anything but a UserError with a message', () => {
    fc.assert(
      fc.property(chatText, (text) => {
        try {
          parseCommand(registry, text, 'local');
        } catch (err) {
          expect(err).toBeInstanceOf(UserError);
          expect((err as UserError).message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => app.cleanup());

  it('always yields a reply through the whole pipeline, and never an internal error', async () => {
    await fc.assert(
      fc.asyncProperty(chatText, async (text) => {
        // As an admin, so random text reaches the handlers and not just the authorization check.
        const reply = await app.run(text);
        expect(reply.title.length).toBeGreaterThan(0);
        expect(reply.outcome).not.toBe('failed');
      }),
      { numRuns: 400 },
    );
  });
});
