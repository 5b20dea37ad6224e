import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../commands/index.js';
import { UserError } from '../src/user-error.js';
import { parseCommand } from '../src/framework/parse-command.js';
import { createRegistry } from '../src/framework/registry.js';
import { tokenize } from '../src/framework/tokenize.js';

const registry = createRegistry(COMMAND_GROUPS);
const parse = (text: string, platform = 'local') => parseCommand(registry, text, platform);
const args = (text: string) => {
  const p = parse(text);
  if (p.kind !== 'command') throw new Error(`expected a command from "${text}"`);
  return p;
};
const usageError = (text: string) => {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error(`"${text}" parsed without error`);
};

describe('tokenize', () => {
  it('keeps quoted values together, straight or curly, and apostrophes inside words', () => {
    expect(tokenize('cluster disable api --reason "bad deploy"')).toEqual(['cluster', 'disable', 'api', '--reason', 'bad deploy']);
    expect(tokenize('x --reason “phone quotes” y')).toEqual(['x', '--reason', 'phone quotes', 'y']);
    expect(tokenize("--reason='it is' don't")).toEqual(['--reason=it is', "don't"]);
    expect(tokenize('  ')).toEqual([]);
    expect(tokenize('"unclosed quote')).toEqual(['unclosed quote']);
  });
});

describe('what a user trips on (issue 8)', () => {
  it('refuses an unbalanced quote with a clear message instead of guessing where the value ends', () => {
    const err = usageError("cluster disable api --reason 'unbalanced");
    expect(err.message).toContain(`Unbalanced quote: the ' that opens "'unbalanced" is never closed`);
    // The --yes form a confirmation suggests is refused the same way, so there is no confirmation loop.
    expect(usageError("cluster disable api --reason 'unbalanced --yes").message).toContain('Unbalanced quote');
    expect(usageError('incident declare "db down --sev 2').message).toContain('Unbalanced quote');
    // The escape suggested is for the quote actually used.
    expect(usageError('incident declare "db down --sev 2').hint).toContain('(\\")');
    expect(usageError("cluster disable api --reason 'unbalanced").hint).toContain("(\\')");
    expect(args("cluster disable api --reason 'it\\'s fine' --yes").args).toMatchObject({ reason: "it's fine" });
    expect(args("cluster disable api --reason don't panic").args).toMatchObject({ reason: "don't panic" });
    // A trailing lone backslash would escape the space before a suggested --yes: refused the same way.
    expect(usageError('cluster disable api --reason abc\\').message).toContain('ends in a backslash');
    expect(args('cluster disable api --reason abc\\\\').args).toMatchObject({ reason: 'abc\\' });
  });

  it('accepts plain decimal integers, grouped or not, and refuses other number forms naming the range', () => {
    for (const [typed, n] of [['1000', 1000], ['1,000', 1000], ['1_000', 1000], ['1,000,000', 1_000_000], ['+5', 5], ['007', 7]] as const) {
      expect(args(`ratelimit set api --per-minute ${typed}`).args.perMinute, typed).toBe(n);
    }
    for (const typed of ['0x10', '1e3', '1E3', '0b11', '0o7', 'Infinity', '1,00', '10,0000', '1__000', '1.', '.5', '١٢', '9'.repeat(40), '99999999999']) {
      const msg = usageError(`ratelimit set api --per-minute ${typed}`).message;
      expect(msg, typed).toBe(`ratelimit set: --per-minute must be a whole number from 1 to 1,000,000,000, not "${typed}".`);
    }
    expect(usageError('ratelimit set api --per-minute 0').message).toContain('from 1 to 1,000,000,000, not "0"');
    expect(usageError('incident severity 3 5').message).toBe('incident severity: <sev> must be a whole number from 1 to 4, not "5".');
    expect(usageError('audit --limit 201').message).toContain('--limit must be a whole number from 1 to 200');
  });

  it('limits free text to what fits a Slack or Discord message, naming the limit, and never cuts it', () => {
    const title = usageError(`incident declare ${'x'.repeat(100_000)} --sev 2`);
    expect(title.message).toContain('<title> is 100,000 characters long; the limit is 100');
    expect(args(`incident declare ${'x'.repeat(100)} --sev 2`).args.title).toHaveLength(100);
    expect(usageError(`cluster disable api --reason ${'r'.repeat(501)}`).message).toContain('--reason is 501 characters long; the limit is 500');
    expect(usageError(`incident update 3 "${'u'.repeat(1001)}"`).message).toContain('<text> is 1,001 characters long; the limit is 1,000');
    expect(usageError(`incident resolve 3 --summary ${'s'.repeat(1001)}`).message).toContain('--summary is 1,001 characters long');
    expect(usageError(`silence api --for 1h --reason ${'s'.repeat(600)}`).message).toContain('--reason is 600 characters long; the limit is 500');
  });

  it('takes incident ids exactly as replies show them', () => {
    for (const typed of ['INC-12', 'inc-12', 'Inc-12', '12', 'INC12']) expect(args(`incident show ${typed}`).args, typed).toEqual({ id: 12 });
    expect(args('incident update INC-3 rolled back').args).toEqual({ id: 3, text: 'rolled back' });
    expect(usageError('incident show INC-x').message).toContain('"INC-x" is not an incident id; use it as shown, e.g. INC-12 (or just 12)');
    expect(usageError('incident show 0').message).toContain('is not an incident id');
  });
});

describe('parseCommand', () => {
  it('treats the leading /infra as optional and empty text as help', () => {
    expect(args('/infra status api').args).toEqual({ cluster: 'api' });
    expect(args('infra status').name).toBe('status');
    expect(parse('')).toEqual({ kind: 'help' });
    expect(parse('help cluster')).toEqual({ kind: 'help', topic: 'cluster' });
    expect(parse('cluster disable --help')).toEqual({ kind: 'help', topic: 'cluster disable' });
  });

  it('accepts --flag value, --flag=value and unquoted multi-word free text', () => {
    expect(args('cluster disable api --reason "bad deploy"').args).toEqual({ cluster: 'api', reason: 'bad deploy' });
    expect(args('cluster disable api --reason=rollback').args).toEqual({ cluster: 'api', reason: 'rollback' });
    expect(args('cluster disable api --reason disk is full --yes')).toMatchObject({ args: { reason: 'disk is full' }, confirmed: true });
  });

  it('takes quoted words as values, never as flags', () => {
    expect(args('cluster disable api --reason "--yes"')).toMatchObject({ args: { reason: '--yes' }, confirmed: false });
    expect(args('cluster disable api --reason "--help" please')).toMatchObject({ args: { reason: '--help please' } });
    expect(args('cluster disable "api" --reason "-y means yes"')).toMatchObject({ args: { cluster: 'api', reason: '-y means yes' }, confirmed: false });
  });

  it('parses every command group with its examples', () => {
    for (const g of COMMAND_GROUPS) {
      for (const s of g.subcommands) {
        for (const example of s.examples) {
          const p = parse(example);
          expect(p.kind === 'help' || (p.group.name === g.name && p.sub.name === s.name), example).toBe(true);
        }
      }
    }
  });

  it('coerces numbers and rejects non-numbers with the flag named', () => {
    expect(args('ratelimit set api --per-minute 1_000 --per-hour 5000').args).toEqual({ cluster: 'api', perMinute: 1000, perHour: 5000 });
    expect(usageError('ratelimit set api --per-minute lots').message).toContain('--per-minute must be a whole number from 1 to 1,000,000,000, not "lots"');
    expect(usageError('ratelimit set api --per-minute 2.5').message).toContain('--per-minute must be a whole number');
    expect(usageError('ratelimit set api --per-minute -5').message).toContain('--per-minute');
    expect(usageError('ratelimit set api').message).toContain('at least one of --per-minute, --per-hour, --per-day');
  });

  it('names what is missing, unknown or repeated, with the usage line as a hint', () => {
    const missing = usageError('cluster disable api');
    expect(missing.message).toContain('missing --reason');
    expect(missing.hint).toBe('Usage: cluster disable <cluster> --reason <reason> [--for <for>] [--until <until>] [--yes]');
    expect(usageError('cluster disable').message).toContain('missing <cluster>');
    expect(usageError('cluster disable api --reason x').message).toContain('at least 3 characters');
    expect(usageError('cluster disable api --reasn "x y z"').message).toContain('unknown option --reasn. Did you mean --reason?');
    expect(usageError('cluster enable api --reason abc --reason def').message).toContain('--reason was given twice');
    expect(usageError('cluster enable api web').message).toContain('unexpected "web"');
    expect(usageError('clustr list').message).toBe('Unknown command "clustr". Did you mean "cluster"?');
    expect(usageError('cluster dsable api').message).toContain('Did you mean "disable"?');
    expect(usageError('cluster').message).toContain('needs a subcommand: list, enable, disable');
    expect(usageError('role grant bob superuser').message).toContain('must be one of viewer, operator, admin');
    expect(usageError('killswitch on').message).toContain('missing --reason');
  });

  it('runs the default subcommand and takes its options', () => {
    expect(args('audit --user bob --since 7d --limit 5')).toMatchObject({
      name: 'audit search',
      args: { user: 'local:bob', since: '7d', limit: 5 },
    });
    expect(args('audit verify').name).toBe('audit verify');
    expect(args('history global').args).toEqual({ scope: 'global', at: '1h' });
    expect(usageError('audit --limit 5000').message).toContain('--limit');
  });

  it('qualifies users by the caller platform and understands mentions', () => {
    expect(args('role grant bob operator').args.user).toBe('local:bob');
    expect(parseCommand(registry, 'role grant <@U024BE7LH|bob> viewer', 'slack')).toMatchObject({ args: { user: 'slack:U024BE7LH' } });
    expect(parseCommand(registry, 'role grant <@!80351110224678912> viewer', 'discord')).toMatchObject({ args: { user: 'discord:80351110224678912' } });
    expect(parseCommand(registry, 'role grant <@&4242> operator', 'discord')).toMatchObject({ args: { user: 'discord-role:4242' } });
    expect(parseCommand(registry, 'role grant <!subteam^S0614TZR7|@oncall> viewer', 'slack')).toMatchObject({ args: { user: 'slack-group:S0614TZR7' } });
    expect(args('role grant slack:U1 admin').args.user).toBe('slack:U1');
  });
});

describe('wording of usage errors (review item 14)', () => {
  it('names the refused value, and shows the usage of the subcommand as typed', () => {
    const bad = usageError("apikey create 'bad name!' --role viewer");
    expect(bad.message).toContain('"bad name!"');
    // A missing choice option says it is missing, not "Invalid option".
    expect(usageError('apikey create ci').message).toContain('missing --role');
    const search = usageError('audit search --limit 0');
    expect(search.hint).toMatch(/^Usage: audit search /);
    // The bare default form keeps its bare usage line.
    expect(usageError('audit --limit 0').hint).toMatch(/^Usage: audit \[/);
  });
});
