import type { SubcommandDef } from '../framework/define-command.js';
import type { Registry } from '../framework/registry.js';
import type { ApiKey } from '../store/api-key-store.js';
import type { AuditRecord } from './audit-record.js';
import { describeVerified, type AuditVerification } from './verify-audit-log.js';
import { plural } from '../util/plural.js';

export interface ReportInput {
  /** Records of the period, oldest first. */
  records: readonly AuditRecord[];
  registry: Registry;
  verification: AuditVerification;
  since: string;
  until: string;
  cluster?: string;
  /** True when the period held more records than were read. */
  truncated?: boolean;
  /** API keys as stored now (revoked ones included): the role of a key a record revoked. */
  apiKeys?: readonly ApiKey[];
}

export interface AuditReport {
  markdown: string;
  csv: string;
  counts: { changes: number; dangerous: number; roleChanges: number; refused: number; denials: number };
}

type Row = { section: string; r: AuditRecord; detail: string };

/** The subcommand an audit record ran ("cluster disable" → cluster's disable; "status" → status's default). */
function subOf(registry: Registry, command: string | undefined): SubcommandDef | undefined {
  if (!command) return undefined;
  const [group, sub] = command.split(' ');
  const g = registry.group(group!);
  return g?.subcommands.find((s) => s.name === (sub ?? g.defaultSubcommand ?? g.name));
}

/** Control characters would reach a terminal or spreadsheet raw: show them as visible escapes. */
const visible = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
const md = (s: string) => visible(s).replace(/([\\`*_|<>[\]])/g, '\\$1');
/** Quoted, and a leading = + - @ defused, so a spreadsheet never runs a cell as a formula. */
const csvCell = (s: string) => `"${(/^[=+\-@\t]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`;
const when = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')}Z`;
const who = (r: AuditRecord) => (r.runBy ? `${r.userId} (run by ${r.runBy})` : r.userId);

/** Commands that change who may do what: role grants and API keys (each key carries a role). */
const ROLE_COMMANDS = new Set(['role grant', 'role revoke', 'apikey create', 'apikey revoke']);

const keyScope = (role: unknown, clusters: readonly string[] | string | undefined) =>
  `${String(role)} on ${clusters === undefined ? 'every cluster' : [clusters].flat().join(', ')}`;

/** What a role change did, with the role: an API key's revocation names the role the key had. */
function roleChange(r: AuditRecord, keys: readonly ApiKey[]): string {
  const a = r.args ?? {};
  if (r.command === 'apikey create') return `API key ${String(a.name)} created: ${keyScope(a.role, typeof a.cluster === 'string' ? a.cluster : undefined)}`;
  if (r.command === 'apikey revoke') {
    // The key revoked closest in time to the record (a name can be reused after a revocation).
    const at = Date.parse(r.at);
    const key = keys
      .filter((k) => k.revokedAt && (k.id === a.key || k.name === a.key))
      .sort((x, y) => Math.abs(Date.parse(x.revokedAt!) - at) - Math.abs(Date.parse(y.revokedAt!) - at))[0];
    return key ? `API key ${key.name} revoked (was ${keyScope(key.role, key.clusters)})` : `API key ${String(a.key)} revoked (role unknown: the key is no longer stored)`;
  }
  return r.rawText;
}

/**
 * The compliance report of a period: who changed what, dangerous actions and how they were confirmed, role
 * changes, denials by user, and whether the log verified. Markdown for people, CSV for spreadsheets.
 */
export function buildAuditReport(input: ReportInput): AuditReport {
  const rows: Row[] = [];
  const denials = new Map<string, AuditRecord[]>();
  for (const r of input.records) {
    const sub = subOf(input.registry, r.command);
    if (r.outcome === 'denied') denials.set(r.userId, [...(denials.get(r.userId) ?? []), r]);
    else if (r.command === 'button') rows.push({ section: 'dangerous action', r, detail: `button: ${r.rawText}${r.error ? ` (${r.error})` : ''}` });
    else if (r.outcome === 'invalid' || r.outcome === 'failed') {
      // An attempt that changed nothing: listed with why, never described as if it had run.
      if (sub?.mutates || sub?.dangerous) rows.push({ section: 'refused', r, detail: r.error ?? r.outcome });
    } else if (r.outcome === 'ok' && ROLE_COMMANDS.has(r.command ?? '')) rows.push({ section: 'role change', r, detail: roleChange(r, input.apiKeys ?? []) });
    else {
      const danger = sub?.dangerous?.(r.args ?? {});
      if (danger && (r.outcome === 'confirm' || r.outcome === 'ok')) {
        rows.push({ section: 'dangerous action', r, detail: `${r.outcome === 'confirm' ? 'asked for confirmation' : 'confirmed and run'}: ${danger}` });
      }
      // A confirmed dangerous action is a change like any other.
      if (r.outcome === 'ok' && (sub?.mutates || danger)) rows.push({ section: 'change', r, detail: r.rawText });
    }
  }
  for (const list of denials.values()) for (const r of list) rows.push({ section: 'denial', r, detail: r.error ?? '' });

  const v = input.verification;
  const status = v.ok
    ? `✅ intact: ${describeVerified(v)}`
    : `❌ ${plural(v.findings.length, 'problem')}: ${v.findings.map((f) => f.message).join('; ')}`;
  const count = (section: string) => rows.filter((x) => x.section === section).length;
  const table = (section: string, head: string[], cells: (x: Row) => string[]) => {
    const mine = rows.filter((x) => x.section === section);
    if (mine.length === 0) return '_None._\n';
    return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...mine.map((x) => `| ${cells(x).map(md).join(' | ')} |`)].join('\n') + '\n';
  };
  const base = (x: Row) => [when(x.r.at), `#${x.r.id}`, who(x.r), x.r.cluster ?? ''];
  const markdown = [
    `# Audit report ${when(input.since)} – ${when(input.until)}${input.cluster ? ` · cluster ${md(input.cluster)}` : ''}`,
    '',
    `**Verification:** ${md(status)}`,
    `**Records in period:** ${input.records.length.toLocaleString('en-US')}${input.truncated ? ' (the first ones only; narrow the period)' : ''}`,
    '',
    `## Changes (${count('change')})`,
    table('change', ['time', 'record', 'user', 'cluster', 'command'], (x) => [...base(x), x.detail]),
    `## Dangerous actions and confirmations (${count('dangerous action')})`,
    table('dangerous action', ['time', 'record', 'user', 'cluster', 'what happened'], (x) => [...base(x), x.detail]),
    `## Role changes (${count('role change')})`,
    table('role change', ['time', 'record', 'by', 'cluster', 'command'], (x) => [...base(x), x.detail]),
    `## Refused and failed attempts (${count('refused')})`,
    table('refused', ['time', 'record', 'user', 'cluster', 'command', 'why nothing changed'], (x) => [...base(x), x.r.rawText, x.detail]),
    `## Denials by user (${count('denial')})`,
    denials.size === 0
      ? '_None._\n'
      : [
          '| user | denials | last denied command |',
          '|---|---|---|',
          ...[...denials].sort((a, b) => b[1].length - a[1].length).map(([u, list]) => `| ${md(u)} | ${list.length} | ${md(list.at(-1)!.rawText)} |`),
        ].join('\n') + '\n',
  ].join('\n');
  const header = ['section', 'time', 'record', 'user', 'run_by', 'platform', 'cluster', 'command', 'outcome', 'detail'];
  const csv = [
    header.join(','),
    ...rows.map((x) => [x.section, x.r.at, String(x.r.id), x.r.userId, x.r.runBy ?? '', x.r.platform, x.r.cluster ?? '', x.r.rawText, x.r.outcome, x.detail].map((c) => csvCell(visible(c))).join(',')),
    [csvCell('verification'), csvCell(input.until), '""', '""', '""', '""', '""', '""', csvCell(v.ok ? 'ok' : 'failed'), csvCell(visible(status))].join(','),
  ].join('\r\n') + '\r\n';
  return { markdown, csv, counts: { changes: count('change'), dangerous: count('dangerous action'), roleChanges: count('role change'), refused: count('refused'), denials: count('denial') } };
}
