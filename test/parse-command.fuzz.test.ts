import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../commands/index.js';
import { UserError } from '../src/user-error.js';
import { parseCommand } from '../src/framework/parse-command.js';
import { createRegistry } from '../src/framework/registry.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { renderText } from '../src/chat/console/render-text.js';

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

// Issue 8: what users really type at 3 a.m. and what an attacker pastes.
const controls = fc.constantFrom('\x1b[2K', '\r', '\x00', '\x07', '\b', '\x7f', '\x9b31m', '\u202e', '\t', '\x1b]8;;http://evil\x07', '\u0085');
const quotes = fc.constantFrom('"', "'", '“', '”', '‘', '„', '\\"', "\\'");
const numbers = fc.constantFrom('0x10', '1e3', '1E3', '-0', '+1', '1,000', '1_000', '1,00', '1__0', 'Infinity', 'NaN', '1.5', '.5', '9'.repeat(30), '٣', '0b1', '0o7', ' 7', '00', '-5', '1,000,000,000', '1000000001');
const templates = ['cluster disable api --reason', 'ratelimit set api --per-minute', 'incident declare', 'incident show', 'silence api --for 1h --reason', 'audit --limit', 'alert ack', 'history api --at', 'incident severity 1', 'help', 'role grant', 'incident assign 1 commander', 'whoami'];
const nasty = fc.tuple(
  fc.constantFrom(...templates),
  fc.array(fc.oneof(controls, quotes, numbers, fc.constantFrom(...words), fc.string({ maxLength: 6 })), { maxLength: 8 }),
).map(([t, rest]) => `${t} ${rest.join(fc.sample(fc.constantFrom(' ', ''), 1)[0]!)}`);
const KB100 = 100 * 1024;
const huge = fc.tuple(fc.constantFrom(...templates, '', '"', 'status'), fc.constantFrom('a', 'x ', '"', '\x1b', '9', ' --yes ', '💥')).map(([t, unit]) => `${t} ${unit.repeat(Math.ceil(KB100 / unit.length))}`);
/** Raw control characters a terminal would act on (the renderer adds none without colour). */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('parser and pipeline under control characters, unbalanced quotes, numeric edge forms and 100 KB inputs', () => {
  it('parses everything to a command or a UserError, never anything else', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 20, arbitrary: nasty }, { weight: 1, arbitrary: huge }), (text) => {
        try {
          parseCommand(registry, text, 'local');
        } catch (err) {
          expect(err).toBeInstanceOf(UserError);
          expect((err as UserError).message.length).toBeGreaterThan(0);
          expect((err as UserError).message.length).toBeLessThan(2000); // a 100 KB value is never echoed whole
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses every unbalanced quote', () => {
    fc.assert(
      fc.property(fc.constantFrom(...templates), fc.constantFrom('"', "'", '“', '‘'), fc.string({ maxLength: 20 }).filter((x) => !/["'“”‘’„\\]/.test(x)), (t, q, rest) => {
        expect(() => parseCommand(registry, `${t} ${q}${rest}`, 'local')).toThrow(/Unbalanced quote/);
      }),
      { numRuns: 500 },
    );
  });

  it('takes only plain decimal numbers, or names the option and its range', () => {
    fc.assert(
      fc.property(numbers, (n) => {
        try {
          const p = parseCommand(registry, `ratelimit set api --per-minute ${n}`, 'local');
          expect(p.kind === 'command' && p.args.perMinute).toBe(Number(n.trim().replace(/[,_]/g, '')));
          expect(n.trim()).toMatch(/^[+-]?(\d{1,3}(,\d{3})+|\d{1,3}(_\d{3})+|\d+)$/);
        } catch (err) {
          expect((err as UserError).message).toBe(`ratelimit set: --per-minute must be a whole number from 1 to 1,000,000,000, not "${n}".`);
        }
      }),
    );
  });

  let app2: TestApp;
  beforeAll(async () => {
    app2 = await createTestApp();
  });
  afterAll(async () => app2.cleanup());

  it('always gives one reply, renders it without raw control characters, and changes nothing on invalid input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 15, arbitrary: nasty }, { weight: 1, arbitrary: huge }), async (text) => {
        const before = await app2.engine.state();
        const reply = await app2.run(text);
        expect(reply.title.length).toBeGreaterThan(0);
        expect(reply.outcome).not.toBe('failed');
        expect(renderText(reply)).not.toMatch(RAW_CONTROL);
        if (reply.outcome === 'confirm') {
          // The --yes form a confirmation suggests runs the command: it never asks again (no confirmation loop).
          expect((await app2.run(reply.hint!)).outcome, reply.hint).not.toBe('confirm');
          return;
        }
        if (reply.outcome !== 'ok') {
          expect(JSON.stringify(reply).length).toBeLessThan(20_000); // a 100 KB paste is never echoed back whole
          const after = await app2.engine.state();
          expect(after.seq).toBe(before.seq);
          expect(after).toEqual(before);
        }
      }),
      { numRuns: 300 },
    );
  });
});
