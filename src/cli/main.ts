import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { createApp, type App } from '../app.js';
import { normalizeSubject, subjectProblem } from '../auth/subjects.js';
import { SigningKeyError } from '../audit/signing-key.js';
import { AUDIT_USAGE, auditCli, checkProofCli } from './audit-cli.js';
import type { AdapterFactory, ChatAdapter } from '../chat/chat-adapter.js';
import { ADAPTER_FACTORIES } from '../chat/adapters.js';
import { runConsole } from '../chat/console/console-adapter.js';
import { createConsoleScreen } from '../chat/console/create-console-screen.js';
import { startConsoleHealth, withConsoleExtras } from './start-health.js';
import { createConsoleSink } from '../chat/console/console-sink.js';
import { writeAttachments } from '../chat/console/write-attachments.js';
import { renderText } from '../chat/console/render-text.js';
import { escapeJsonForTerminal, escapeTerminalText } from '../chat/console/escape-terminal-text.js';
import { ConfigError, EXAMPLE_CONFIG, loadConfig } from '../config/load-config.js';
import type { Outcome, Reply } from '../framework/reply.js';
import { createLogger } from '../log.js';
import { migrateSqlDb } from '../store/db/migrate-sql-db.js';
import { openStoreDb, storeLocation } from '../store/store-location.js';
import { shortId } from '../util/ids.js';
import { describeFileError } from './describe-file-error.js';
import { exportAudit } from './export-audit.js';
import { guardStdout } from './guard-stdout.js';
import { startHttpApi } from '../http/start-http-api.js';
import { backupCli, restoreCli, STORE_USAGE, storeCopyCli, type StoreCliDeps } from './store-cli.js';
import { printVerification } from './audit-cli.js';
import type { StoreLocation } from '../store/store-location.js';
import type { InfrabotConfig } from '../config/config-schema.js';

const USAGE = `Usage: infrabot <command> [options]

Commands:
  start                    Run the bot: chat adapters whose credentials are set, else the console,
                           and the HTTP control API (http.host/http.port; default 127.0.0.1:18090)
  console [--as user]      Interactive terminal chat (reads one command per line when not a TTY)
  run "<command>" [--as user] [--json] [--yes]
                           Run one /infra command and exit (0 ok, 1 failed, 2 invalid, 3 needs --yes, 4 denied)
${AUDIT_USAGE}
${STORE_USAGE}
  slack manifest [--url https://…] [--socket]
                           Print a Slack app manifest to create the app from
  migrate                  Apply pending database migrations
  worker                   Run runbook workers only (BullMQ on REDIS_URL), to scale runs out over machines
  discord register [--guild id]
                           Register /infra with Discord (globally, or in one guild); skipped when unchanged

Options:
  --config <file>          Config file (env INFRABOT_CONFIG; default: the example config)
  --data-dir <dir>         Data directory (env INFRABOT_DATA_DIR; default ./data)
  --as <user>              Run as another user id (local name or platform:id); you stay on record as the OS user
  -h, --help               Show this help`;

export const EXIT_CODES: Record<Outcome, number> = { ok: 0, duplicate: 0, failed: 1, invalid: 2, confirm: 3, denied: 4 };
const EX_USAGE = 64;
/** sysexits: a file or directory that cannot be created or opened. */
const EX_CANTCREAT = 73;
const KNOWN_COMMANDS = new Set(['start', 'console', 'run', 'audit', 'migrate', 'discord', 'slack', 'store', 'backup', 'restore', 'worker']);
const EX_CONFIG = 78;

/** The process streams, injectable so tests drive the CLI in-process. */
export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean };
}

export async function main(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  // `slack …` needs no config or data directory and has its own flags.
  if (argv[0] === 'slack') return (await import('../chat/slack/slack-manifest.js')).runSlackCli(argv.slice(1), io);
  // A reader that goes away (`| head -1`) ends output quietly instead of crashing on EPIPE.
  const stdout = guardStdout(io.stdout);
  io = { ...io, stdout };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        as: { type: 'string' },
        json: { type: 'boolean' },
        format: { type: 'string' },
        output: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        guild: { type: 'string' },
        // `run "cluster disable api --reason x" --yes`: confirmation given outside the quotes.
        yes: { type: 'boolean', short: 'y' },
        witness: { type: 'string' },
        pubkey: { type: 'string', multiple: true },
        since: { type: 'string' },
        cluster: { type: 'string' },
        to: { type: 'string' },
        schema: { type: 'string' },
        force: { type: 'boolean' },
      },
    });
  } catch (err) {
    io.stderr.write(`infrabot: ${describeArgError(err, argv)}\n`);
    return EX_USAGE;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.yes && command !== 'run') {
    io.stderr.write('infrabot: --yes confirms a dangerous command given to `run`; it means nothing here. See infrabot --help.\n');
    return EX_USAGE;
  }
  if (values.help || !command) {
    io.stdout.write(USAGE + '\n');
    return command || values.help ? 0 : EX_USAGE;
  }
  if (!KNOWN_COMMANDS.has(command)) {
    // Refused before any config is read or data directory touched.
    io.stderr.write(`infrabot: unknown command "${escapeTerminalText(command)}"\n\n${USAGE}\n`);
    return EX_USAGE;
  }
  // `--as` names a user exactly like any user id in a command: an empty or malformed one is refused.
  const asUser = values.as === undefined ? undefined : normalizeSubject(values.as, 'local');
  const asProblem = asUser === undefined ? undefined : values.as!.trim() === '' ? 'give the user id to run as, e.g. --as alice or --as slack:U123ABC' : subjectProblem(asUser);
  if (asProblem) {
    io.stderr.write(`infrabot: --as ${escapeTerminalText(JSON.stringify(values.as))}: ${escapeTerminalText(asProblem)}\n`);
    return EX_USAGE;
  }
  // Checking a proof needs nothing but the file and a public key: no config, data directory or database.
  if (command === 'audit' && rest[0] === 'check-proof') return checkProofCli(rest.slice(1), values.pubkey ?? [], io);
  const configFile = resolve(values.config ?? process.env.INFRABOT_CONFIG ?? EXAMPLE_CONFIG);
  const dataDir = resolve(values['data-dir'] ?? process.env.INFRABOT_DATA_DIR ?? 'data');

  let loaded;
  try {
    loaded = await loadConfig(configFile);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`infrabot: ${err.message}\n`);
      return EX_CONFIG;
    }
    throw err;
  }
  const { config } = loaded;
  const osUser = `local:${userInfo().username}`;
  const user = asUser ?? osUser;
  // Whoever really ran `--as` stays on record in the audit log, in its own hashed field.
  const invokingUser = asUser
    ? { id: user, displayName: `${user} (--as, run by ${osUser})`, runBy: osUser }
    : { id: user, displayName: user.slice(user.indexOf(':') + 1) };

  const location = storeLocation(config, dataDir);
  // What error messages call the database: the file, or PostgreSQL's host and database (never the password).
  const dbFile = location.backend === 'sqlite' ? location.file : location.display;
  if (command === 'migrate') {
    try {
      const { db } = await openStoreDb(config, dataDir);
      try {
        const applied = await migrateSqlDb(db);
        io.stdout.write(applied.length ? `Applied migrations ${applied.join(', ')} to ${dbFile}\n` : `${dbFile} is up to date\n`);
      } finally {
        await db.close();
      }
      return 0;
    } catch (err) {
      io.stderr.write(`infrabot: ${location.backend === 'sqlite' ? describeFileError(err, 'the database', dbFile) : describeFileError(err, 'the PostgreSQL database', dbFile)}\n`);
      return EX_CANTCREAT;
    }
  }

  if (command === 'store' || command === 'backup' || command === 'restore') {
    const deps: StoreCliDeps = {
      stdout: io.stdout,
      stderr: io.stderr,
      location,
      dataDir,
      verify: (location) => verifyStoreAt(config, dataDir, location, io),
    };
    if (command === 'store') return storeCopyCli(rest, values, deps);
    if (command === 'backup') return backupCli(rest, deps);
    return restoreCli(rest, values, deps);
  }

  const adapters = command === 'start' ? ADAPTER_FACTORIES.filter((f) => f.configured(process.env)) : [];
  let log: Logger;
  let app: App;
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    io.stderr.write(`infrabot: ${describeFileError(err, 'the data directory (--data-dir)', dataDir)}\n`);
    return EX_CANTCREAT;
  }
  try {
    // Chat adapters log JSON to stderr like any service; console and CLI keep the terminal for replies and log to a file.
    log = adapters.length
      ? createLogger({ level: config.log.level })
      : createLogger({ level: config.log.level, destination: pino.destination({ dest: join(dataDir, 'infrabot.log'), sync: true }) });
  } catch (err) {
    io.stderr.write(`infrabot: ${describeFileError(err, 'the log file', join(dataDir, 'infrabot.log'))}\n`);
    return EX_CANTCREAT;
  }
  try {
    app = await createApp({ config, configFile, dataDir, log, metrics: command === 'start' || command === 'console', ...(adapters.length ? {} : { localAdmins: [osUser] }) });
  } catch (err) {
    if (err instanceof SigningKeyError) {
      io.stderr.write(`infrabot: ${escapeTerminalText(err.message)}\n`);
      return EX_CONFIG;
    }
    log.error({ err, file: dbFile }, 'could not open the database');
    io.stderr.write(`infrabot: ${describeFileError(err, location.backend === 'sqlite' ? 'the database' : 'the PostgreSQL database', dbFile)}\n`);
    return EX_CANTCREAT;
  }
  // Long-running processes checkpoint on a timer and seal what they wrote when they stop.
  const longRunning = command === 'start' || command === 'console';
  if (longRunning) app.audit.checkpointer.start();
  try {
    if (adapters.length) return await serveChat(app, adapters, log);
    switch (command) {
      case 'worker':
        return await serveWorker(app, io, log);
      case 'start':
      case 'console':
        log.info({ configFile, dataDir, user }, 'console adapter starting');
        if (command === 'start' && io.stdin.isTTY) {
          io.stdout.write('No Slack or Discord credentials configured: running the console adapter.\n');
        }
        {
          const interactive = Boolean(io.stdin.isTTY && io.stdout.isTTY);
          // Health checks, the simulated fleet and alert printing run for `start`, and for an interactive console;
          // a scripted console (`infrabot console < file`) stays quiet and deterministic.
          const screen = createConsoleScreen(io.stdout);
          // The API first: without Redis the simulated services' guards follow its control stream, as real ones would.
          const http = command === 'start' ? await startHttpApi(app, (line) => screen.print(line)) : undefined;
          const health =
            command === 'start' || interactive
              ? await startConsoleHealth(app, { output: io.stdout, color: interactive, screen, dataDir, ...(http?.stream ? { stream: http.stream } : {}) })
              : undefined;
          if (app.health) app.runbooks.messenger.addSink(createConsoleSink({ output: io.stdout, color: interactive, screen, attachmentsTo: dataDir }));
          await app.runbooks.start();
          try {
            const failed = await runConsole({
              pipeline: withConsoleExtras(app.pipeline, { dataDir, ...(health?.fleet ? { fleet: health.fleet } : {}) }),
              user: invokingUser,
              input: io.stdin,
              output: io.stdout,
              interactive,
              historyFile: join(dataDir, '.console_history'),
              screen,
              // The console is this bot's only adapter: leaving stops its probes and alert delivery.
              ...(health ? { confirmLeave: 'Leaving stops health checks and alert delivery of this bot. Leave? [y/N] ' } : {}),
            });
            // A script (`infrabot console < commands.txt`) fails when one of its commands did.
            return !interactive && failed ? EXIT_CODES[failed] : 0;
          } finally {
            await http?.stop();
            await health?.stop();
          }
        }
      case 'run':
        return await runOnce(app, rest.join(' '), invokingUser, { json: Boolean(values.json), confirmed: Boolean(values.yes) }, io.stdout, dataDir);
      case 'audit':
        return rest[0] === 'export' ? await auditExport(app, values, io) : await auditCli(app, rest, values, io);
      case 'discord':
        return await (await import('../chat/discord/discord-cli.js')).discordCli(rest, { guild: values.guild }, app.pipeline.registry, io);
      default:
        io.stderr.write(`infrabot: unknown command "${escapeTerminalText(command)}"\n\n${USAGE}\n`);
        return EX_USAGE;
    }
  } finally {
    if (longRunning) await app.audit.checkpointer.checkpoint().catch(() => undefined);
    await app.close();
    log.flush();
  }
}

/** `audit verify` against a store: the chain, checkpoints, witness and state replay; prints and returns its exit code. */
async function verifyStoreAt(config: InfrabotConfig, dataDir: string, location: StoreLocation, io: Pick<CliIO, 'stdout' | 'stderr'>): Promise<number> {
  const log = pino({ level: 'silent' });
  const { url: _configured, ...storage } = config.storage;
  const at = { ...config, storage: location.backend === 'sqlite' ? { ...storage, file: location.file } : { ...storage, url: location.url } };
  const app = await createApp({ config: at, dataDir, log, metrics: false });
  try {
    const started = performance.now();
    const v = await app.audit.verify();
    return printVerification(v, ((performance.now() - started) / 1000).toFixed(2), io);
  } finally {
    await app.close();
  }
}

/** Runs the configured chat adapters until SIGINT/SIGTERM, then stops them cleanly. */
async function serveChat(app: App, factories: AdapterFactory[], log: Logger): Promise<number> {
  const running: ChatAdapter[] = [];
  try {
    for (const f of factories) running.push(await f.start({ app, env: process.env, log: log.child({ adapter: f.name }) }));
  } catch (err) {
    log.fatal({ err }, 'a chat adapter failed to start');
    await Promise.allSettled(running.map((a) => a.stop()));
    return 1;
  }
  // Alerts and incident threads go out through every adapter that can post outside a reply.
  for (const a of running) if (a.sink) app.health?.deliverer.addSink(a.sink);
  for (const a of running) if (a.sink) app.runbooks.messenger.addSink(a.sink);
  await app.runbooks.start();
  app.health?.start();
  app.schedules?.start();
  // Chat adapters log JSON lines: the API's start-up line is one of them.
  const http = await startHttpApi(app, (line) => log.info(line));
  log.info({ adapters: running.map((a) => a.name), http: http.url }, 'infrabot started');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  log.info('shutting down');
  await http.stop();
  await app.schedules?.stop();
  await app.health?.stop();
  await Promise.allSettled(running.map((a) => a.stop()));
  return 0;
}

/** `infrabot worker`: runbook workers only, until SIGINT/SIGTERM; chat messages are edited by the bot processes. */
async function serveWorker(app: App, io: CliIO, log: Logger): Promise<number> {
  if (app.runbooks.service.queue?.kind !== 'bullmq') {
    io.stderr.write('infrabot worker: needs Redis (redis.url or REDIS_URL); without it `infrabot start` runs runbooks in-process.\n');
    return EX_CONFIG;
  }
  await app.runbooks.start({ worker: true, chat: false });
  io.stdout.write(`infrabot worker: running runbooks from ${app.runbooks.service.queue.description}\n`);
  log.info('runbook worker started');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  return 0;
}

/** The exit code comes from the reply's outcome alone: a command reporting a failure exits 1, like any failure. */
async function runOnce(app: App, text: string, user: { id: string; displayName: string }, opts: { json: boolean; confirmed: boolean }, out: Writable, dataDir: string): Promise<number> {
  if (!text.trim()) {
    out.write('infrabot run: give the command to run, e.g. infrabot run "status"\n');
    return EX_USAGE;
  }
  const reply = await app.pipeline.handle({ id: shortId(16), platform: 'cli', user, channel: 'cli', text, ...(opts.confirmed ? { confirmed: true } : {}) });
  out.write((opts.json ? escapeJsonForTerminal(JSON.stringify(replyJson(reply), null, 2)) : renderText(writeAttachments(reply, dataDir))) + '\n');
  return EXIT_CODES[reply.outcome];
}

/** What `run --json` prints: the outcome and the structured data (or the error), never display text or emoji. */
export function replyJson(reply: Reply) {
  return {
    outcome: reply.outcome,
    ...(reply.data !== undefined ? { data: reply.data } : {}),
    ...(reply.error ? { error: reply.error } : {}),
    ...(reply.outcome === 'confirm' && reply.hint ? { confirmWith: reply.hint } : {}),
    traceId: reply.traceId,
    time: reply.time,
  };
}

/** node:util parseArgs errors in one line, in our words. */
function describeArgError(err: unknown, argv: string[]): string {
  const code = (err as { code?: string }).code;
  const m = /'(-[^']*)'/.exec((err as Error).message);
  const flag = escapeTerminalText(m?.[1] ?? '');
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const hint = argv[0] === 'run' ? ` Options of the command itself go inside the quotes: infrabot run "cluster disable api ${flag} …".` : '';
    return `unknown option ${flag}.${hint} See infrabot --help.`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `option ${flag} needs a value. See infrabot --help.`;
  return `${escapeTerminalText((err as Error).message)}. See infrabot --help.`;
}

async function auditExport(app: App, values: { format?: string | undefined; output?: string | undefined }, io: Pick<CliIO, 'stdout' | 'stderr'>): Promise<number> {
  if ((values.format ?? 'jsonl') !== 'jsonl') {
    io.stderr.write(`infrabot audit export: unsupported --format "${escapeTerminalText(values.format ?? '')}"; supported: jsonl\n`);
    return EX_USAGE;
  }
  return exportAudit(app.store, values.output, io);
}
