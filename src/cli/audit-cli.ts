import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { App } from '../app.js';
import { checkRecordProof, proveRecord } from '../audit/record-proof.js';
import { KEY_ENV, parsePublicKey, rotateSigningKey, SigningKeyError } from '../audit/signing-key.js';
import { describeVerified, type AuditVerification } from '../audit/verify-audit-log.js';
import { appendWitness, checkpointLineOf } from '../audit/witness-file.js';
import { escapeTerminalText } from '../chat/console/escape-terminal-text.js';
import { parseTimeRef } from '../util/duration.js';
import { plural } from '../util/plural.js';

const EX_USAGE = 64;

export const AUDIT_USAGE = `  audit verify [--witness file] [--pubkey key]
                           Check the chain, every signed checkpoint, the witness and the stored state (exit 0 intact, 1 not)
  audit export [--format jsonl] [--output file]
                           Write audit records as JSON lines for a SIEM
  audit pubkey             Print the audit signing key's public half (give it to whoever checks proofs)
  audit rotate-key         Replace the signing key; the old key signs the new one
  audit checkpoint         Sign a checkpoint over every record not yet covered, now
  audit checkpoints export [--output file]
                           Write the signed checkpoints and key rotations as JSON lines
  audit prove <id> [--output file]
                           Print a proof that record <id> is in the signed log
  audit check-proof <file> --pubkey <key>
                           Check a proof with only the public key (no database needed)
  audit report [--since 30d] [--cluster c] [--format md|csv] [--output file]
                           Compliance report: changes, dangerous actions, role changes, refusals, denials, verification`;

interface Streams {
  stdout: Writable;
  stderr: Writable;
}

export interface AuditCliValues {
  format?: string | undefined;
  output?: string | undefined;
  witness?: string | undefined;
  pubkey?: string[] | undefined;
  since?: string | undefined;
  cluster?: string | undefined;
}

/** Writes to --output or stdout; a failure to write is one clear line, never a stack trace. */
function emit(text: string, output: string | undefined, io: Streams): boolean {
  if (!output) {
    io.stdout.write(text);
    return true;
  }
  try {
    writeFileSync(output, text);
    return true;
  } catch (err) {
    io.stderr.write(`infrabot: cannot write ${output} (${(err as NodeJS.ErrnoException).code ?? String(err)})\n`);
    return false;
  }
}

export function printVerification(v: AuditVerification, took: string, io: Streams): number {
  // Findings quote what is in the database (grant subjects, hashes): shown with control characters escaped.
  for (const note of v.notes) io.stderr.write(`  ${escapeTerminalText(note)}\n`);
  if (v.ok) {
    io.stdout.write(
      `audit log intact: ${describeVerified(v)}, control state matches its events; verified in ${took}s\n` +
        (v.latest ? `latest checkpoint #${v.latest.seq}: records 1–${v.latest.lastId}, hash ${v.latest.hash}\n` : '') +
        (v.uncovered ? `${v.uncovered} newer records are covered by the hash chain only until the next checkpoint\n` : ''),
    );
    return 0;
  }
  // Findings come sorted by the first record they affect; one that names none (a replay mismatch) spares every record.
  const first = v.findings[0]?.firstRecord;
  const before = Math.min(v.records, first === undefined ? v.records : first - 1);
  io.stderr.write(`audit log BROKEN: ${plural(v.findings.length, 'problem')} (${before} records verified before the first)\n`);
  for (const f of v.findings) io.stderr.write(`  ${f.firstRecord !== undefined ? `[first record affected: ${f.firstRecord}] ` : ''}${escapeTerminalText(f.message)}\n`);
  return 1;
}

/** `infrabot audit …` subcommands that need the app (database, key, witness). */
export async function auditCli(app: App, args: string[], values: AuditCliValues, io: Streams): Promise<number> {
  try {
    return await runAuditSubcommand(app, args, values, io);
  } catch (err) {
    // Refusals such as "the bot will not sign over an edited log": one line, details in the log.
    app.log.error({ err, args }, 'audit command failed');
    io.stderr.write(`infrabot audit ${escapeTerminalText(args[0] ?? '')}: ${escapeTerminalText((err as Error).message)}\n`);
    return 1;
  }
}

async function runAuditSubcommand(app: App, args: string[], values: AuditCliValues, io: Streams): Promise<number> {
  const [sub, ...rest] = args;
  const audit = app.audit;
  switch (sub) {
    case 'verify': {
      if (values.witness && !existsSync(values.witness)) {
        io.stderr.write(`infrabot audit verify: --witness ${escapeTerminalText(values.witness)}: no such file\n`);
        return EX_USAGE;
      }
      if (!keysUsable('verify', values.pubkey ?? [], io)) return EX_USAGE;
      const started = performance.now();
      const v = await audit.verify({ ...(values.witness ? { witnessFile: values.witness } : {}), pubkeys: values.pubkey ?? [] });
      return printVerification(v, ((performance.now() - started) / 1000).toFixed(2), io);
    }
    case 'pubkey':
      io.stdout.write(`${audit.key.publicKey}\n`);
      io.stderr.write(`key id ${audit.key.keyId}, from ${audit.key.source}\n`);
      return 0;
    case 'rotate-key': {
      const fromEnv = audit.key.source === KEY_ENV;
      // Seal what the old key vouches for first, so every record is covered by exactly one key's checkpoint.
      await audit.checkpointer.checkpoint();
      const { rotation, key, privateKeyExport } = rotateSigningKey(audit.key, new Date().toISOString(), fromEnv ? undefined : audit.keyDir);
      await app.store.saveKeyRotation(rotation);
      appendWitness(audit.witnessFile, { type: 'key-rotation', ...rotation });
      app.log.info({ rotation }, 'audit signing key rotated');
      io.stdout.write(`rotated the audit signing key: ${rotation.oldKeyId} → ${rotation.newKeyId}\nnew public key: ${key.publicKey}\n`);
      if (privateKeyExport) {
        io.stdout.write(`The key comes from the environment: set INFRABOT_AUDIT_KEY to this new private key and restart:\n${privateKeyExport}\n`);
      }
      return 0;
    }
    case 'checkpoint': {
      const cp = await audit.checkpointer.checkpoint();
      io.stdout.write(cp ? `checkpoint #${cp.seq}: records 1–${cp.lastId}, hash ${cp.hash}\n` : 'every record is already covered by a checkpoint\n');
      return 0;
    }
    case 'checkpoints': {
      if (rest[0] !== 'export') {
        io.stderr.write('infrabot audit checkpoints: expected "export"\n');
        return EX_USAGE;
      }
      const lines = [
        ...(await app.store.keyRotations()).map((r) => JSON.stringify({ type: 'key-rotation', ...r })),
        ...(await app.store.checkpoints()).map((cp) => JSON.stringify(checkpointLineOf(cp))),
      ];
      if (!emit(lines.map((l) => l + '\n').join(''), values.output, io)) return 1;
      io.stderr.write(`exported ${lines.length} checkpoints and key rotations\n`);
      return 0;
    }
    case 'prove': {
      const id = Number(rest[0]);
      if (!rest[0] || !/^\d+$/.test(rest[0]) || !Number.isSafeInteger(id) || id < 1) {
        io.stderr.write(`infrabot audit prove: give a record id (a positive whole number), e.g. infrabot audit prove 42${rest[0] ? `; "${escapeTerminalText(rest[0])}" is not one` : ''}\n`);
        return EX_USAGE;
      }
      try {
        const { proof, checkpoint } = await proveRecord(app.store, id);
        const text = JSON.stringify(proof) + '\n';
        if (!emit(text, values.output, io)) return 1;
        io.stderr.write(`proof of record ${id} against checkpoint #${checkpoint.seq} (${text.length} bytes); check it with: infrabot audit check-proof <file> --pubkey ${audit.key.publicKey}\n`);
        return 0;
      } catch (err) {
        io.stderr.write(`infrabot audit prove: ${(err as Error).message}\n`);
        return 1;
      }
    }
    case 'report': {
      const format = values.format ?? 'md';
      if (format !== 'md' && format !== 'csv') {
        io.stderr.write(`infrabot audit report: unsupported --format "${escapeTerminalText(format)}"; supported: md, csv\n`);
        return EX_USAGE;
      }
      const now = new Date();
      const since = parseTimeRef(values.since ?? '30d', now);
      if (!since) {
        io.stderr.write(`infrabot audit report: --since "${escapeTerminalText(values.since ?? '')}" is not a time; use ISO 8601 or a duration like 24h, 7d, 30d\n`);
        return EX_USAGE;
      }
      const report = await audit.report({ since, until: now, ...(values.cluster ? { cluster: values.cluster } : {}) });
      return emit(format === 'csv' ? report.csv : report.markdown, values.output, io) ? 0 : 1;
    }
    default:
      io.stderr.write(`infrabot audit: unknown subcommand${sub ? ` "${escapeTerminalText(sub)}"` : ''}\n${AUDIT_USAGE}\n`);
      return EX_USAGE;
  }
}

/** Keys given by hand are checked first: a typo is a usage error (64) naming the value, not a broken log or proof. */
function keysUsable(sub: string, keys: readonly string[], io: Streams): boolean {
  for (const key of keys) {
    try {
      parsePublicKey(key);
    } catch (err) {
      if (!(err instanceof SigningKeyError)) throw err;
      io.stderr.write(`infrabot audit ${sub}: --pubkey ${escapeTerminalText(err.message)}\n`);
      return false;
    }
  }
  return true;
}

/** `infrabot audit check-proof <file> --pubkey <key>`: needs no config, data directory or database. */
export function checkProofCli(files: string[], keys: string[], io: Streams): number {
  const [file, ...extra] = files;
  if (!file || keys.length === 0 || extra.length > 0) {
    io.stderr.write(`infrabot audit check-proof: ${extra.length ? `one proof file at a time, not also "${escapeTerminalText(extra.join(' '))}"; ` : ''}usage: infrabot audit check-proof <file> --pubkey ed25519:… (the key printed by "infrabot audit pubkey")\n`);
    return EX_USAGE;
  }
  if (!keysUsable('check-proof', keys, io)) return EX_USAGE;
  let proof: unknown;
  try {
    proof = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr.write(`infrabot audit check-proof: ${escapeTerminalText(file)}: ${code ? `cannot read it (${code})` : 'not JSON'}\n`);
    return EX_USAGE;
  }
  const result = checkRecordProof(proof, keys);
  if (!result.ok) {
    io.stderr.write(`proof INVALID: ${result.problem}\n`);
    return 1;
  }
  const r = result.record;
  const cp = result.checkpoint;
  const show = (v: unknown) => escapeTerminalText(String(v));
  io.stdout.write(
    `proof valid: record ${show(r.id)} is in the audit log signed by key ${cp.keyId}\n` +
      `  ${show(r.at)}  ${show(r.user_id)}${r.run_by ? ` (run by ${show(r.run_by)})` : ''} on ${show(r.platform)}: ${show(r.raw_text)}\n` +
      `  outcome ${show(r.outcome)}${r.error ? `: ${show(r.error)}` : ''}${r.cluster ? `, cluster ${show(r.cluster)}` : ''}, trace ${show(r.trace_id)}\n` +
      `  checkpoint #${cp.seq} (records 1–${cp.lastId}, signed ${cp.at}, hash ${cp.hash})\n`,
  );
  return 0;
}
