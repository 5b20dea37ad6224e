import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { defineScripts } from './define-scripts.js';
import type { ControlKeys } from './keys.js';
import type { ClusterSnapshot } from './snapshot.js';

/** Amounts travel as integer micro-units (1e-6 of the currency), so sums never drift. */
export const MICRO = 1_000_000;
/** Largest single amount: keeps every sum well inside exact doubles in Lua and JavaScript. */
export const MAX_AMOUNT = 1_000_000_000;
const DEFAULT_TTL_MS = 5 * 60_000;
/** How long a confirmed key answers retries with its stored response. */
const DEFAULT_REPLAY_TTL_MS = 24 * 3_600_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;
const ACTION_PATTERN = /^[\w.:-]{1,64}$/;

export interface ReserveInput {
  /** The caller's key for this action; a retry with the same key never charges twice. Printable ASCII, ≤ 200. */
  idempotencyKey: string;
  /** What is billed ("mint-dream"): letters, digits, `.`, `:`, `_`, `-`. */
  action: string;
  /** Charge for this action; omitted → the cluster's configured price for `action`. */
  amount?: number;
  /** Defaults to the cluster's budget currency (USD without one). */
  currency?: string;
  /** The request body: its SHA-256 tells a retry from a different request reusing the key. */
  request?: unknown;
  /** Or the digest itself (hex SHA-256), when the caller hashed the body already. */
  digest?: string;
  /** How long the amount is held before it is released unconfirmed (default 5 min). */
  ttlMs?: number;
}

export interface Reservation {
  status: 'reserved';
  /** `<cluster>:<idempotencyKey>`: what `GET /api/billable/:actionId` takes. */
  actionId: string;
  cluster: string;
  idempotencyKey: string;
  /** This attempt; a later attempt of the same key (after a cancel or expiry) gets another. */
  token: string;
  action: string;
  amount: number;
  currency: string;
  digest: string;
  expiresAt: string;
}

export type RefusalReason = 'budget-exhausted' | 'idempotency-conflict' | 'in-progress' | 'unpriced' | 'currency-mismatch' | 'unavailable';

export type ReserveResult =
  | Reservation
  | { status: 'replayed'; actionId: string; response: unknown; amount: number; currency: string; digest: string }
  | { status: 'refused'; actionId: string; reason: RefusalReason; message: string; retryAfterMs: number; digest: string };

export type FinishOutcome = 'confirmed' | 'already' | 'cancelled' | 'expired' | 'superseded' | 'unknown';

export interface BillableRecord {
  actionId: string;
  state: 'reserved' | 'confirmed' | 'cancelled' | 'expired';
  action: string;
  amount: number;
  currency: string;
  digest: string;
  reservedAt: string;
  expiresAt: string;
  finishedAt?: string;
  response?: unknown;
}

export interface BillableStats {
  /** Open reservations and the amount they hold. */
  pending: number;
  held: number;
  reserved: number;
  confirmed: number;
  /** Total amount charged by confirmed actions. */
  charged: number;
  /** Reservations that ended without a charge: cancelled + expired. */
  failed: number;
  cancelled: number;
  expired: number;
  /** Reservations refused for the budget, and retries refused for a different request under a used key. */
  refusedForBudget: number;
  conflicts: number;
}

/** SHA-256 (hex) of a request body; objects are hashed with their keys sorted, so key order does not matter. */
export function requestDigest(body: unknown): string {
  const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? body : stableJson(body ?? null);
  return createHash('sha256').update(bytes).digest('hex');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const toMicro = (n: number) => Math.round(n * MICRO);
const fromMicro = (s: string | number | undefined) => Number(s ?? 0) / MICRO;

/** Bad input is the caller's bug: thrown, never mistaken for a refusal. */
function validate(i: ReserveInput): void {
  if (typeof i.idempotencyKey !== 'string' || !KEY_PATTERN.test(i.idempotencyKey)) {
    throw new TypeError(`idempotencyKey ${JSON.stringify(i.idempotencyKey)} must be 1–200 printable ASCII characters without spaces`);
  }
  if (typeof i.action !== 'string' || !ACTION_PATTERN.test(i.action)) {
    throw new TypeError(`action ${JSON.stringify(i.action)} must be 1–64 letters, digits, ".", ":", "_" or "-"`);
  }
  if (i.amount !== undefined && !(Number.isFinite(i.amount) && i.amount > 0 && i.amount <= MAX_AMOUNT && toMicro(i.amount) >= 1)) {
    throw new TypeError(`amount ${i.amount} must be a positive number of at most ${MAX_AMOUNT} (6 decimals)`);
  }
  if (i.currency !== undefined && !/^[A-Z]{3}$/.test(i.currency)) throw new TypeError(`currency ${JSON.stringify(i.currency)} must be an ISO 4217 code such as USD`);
  if (i.digest !== undefined && !/^[0-9a-f]{64}$/.test(i.digest)) throw new TypeError('digest must be a hex SHA-256 (64 characters)');
  if (i.ttlMs !== undefined && !(Number.isInteger(i.ttlMs) && i.ttlMs >= 20 && i.ttlMs <= 86_400_000)) throw new TypeError(`ttlMs ${i.ttlMs} must be a whole number of milliseconds from 20 ms to 24 h`);
}

const scriptKeys = (keys: ControlKeys, cluster: string, idempotencyKey: string) => {
  const b = keys.billable(cluster);
  return [b.record(idempotencyKey), b.open, b.held, b.totals, b.charges] as const;
};

/** Phase one: hold the amount against the cluster's budget (see billable-reserve-5.lua). */
export async function reserveBillable(redis: Redis, keys: ControlKeys, cluster: string, c: ClusterSnapshot | undefined, input: ReserveInput): Promise<ReserveResult> {
  validate(input);
  const digest = input.digest ?? requestDigest(input.request);
  const actionId = `${cluster}:${input.idempotencyKey}`;
  const billing = c?.billing;
  const currency = input.currency ?? billing?.currency ?? 'USD';
  const refuse = (reason: RefusalReason, message: string, retryAfterMs = 0): ReserveResult => ({ status: 'refused', actionId, reason, message, retryAfterMs, digest });
  if (billing?.currency && currency !== billing.currency) {
    return refuse('currency-mismatch', `The budget of ${cluster} is in ${billing.currency}; this action was priced in ${currency}.`);
  }
  const amount = input.amount ?? (billing?.prices && Object.hasOwn(billing.prices, input.action) ? billing.prices[input.action] : undefined);
  if (amount === undefined) return refuse('unpriced', `No amount given and no price configured for action "${input.action}" on ${cluster}.`);
  const token = randomUUID();
  const ttlMs = input.ttlMs ?? DEFAULT_TTL_MS;
  const r = await defineScripts(redis).billableReserve5(
    ...scriptKeys(keys, cluster, input.idempotencyKey),
    input.idempotencyKey, token, input.action, String(toMicro(amount)), currency, digest, ttlMs,
    String(toMicro(billing?.daily ?? 0)), String(toMicro(billing?.monthly ?? 0)), DEFAULT_REPLAY_TTL_MS,
  );
  switch (r[0]) {
    case 'reserved':
      return { status: 'reserved', actionId, cluster, idempotencyKey: input.idempotencyKey, token, action: input.action, amount: fromMicro(toMicro(amount)), currency, digest, expiresAt: new Date(Number(r[2])).toISOString() };
    case 'replayed':
      return { status: 'replayed', actionId, response: JSON.parse(r[2] ?? 'null') as unknown, amount: fromMicro(r[3]), currency: r[4] ?? currency, digest };
    case 'in-progress':
      return refuse('in-progress', `Action ${actionId} is already reserved by another attempt; retry after it is confirmed or released.`, Math.max(1, Number(r[2]) - Date.now()));
    case 'conflict':
      return refuse('idempotency-conflict', `Idempotency key "${input.idempotencyKey}" was used for a different request (digest ${r[1]!.slice(0, 12)}…, this one ${digest.slice(0, 12)}…).`);
    default: {
      // 'budget': which window, held, already charged, ms to the next day.
      const [, window, held, spent, retry] = r;
      const limit = window === 'daily' ? billing?.daily : billing?.monthly;
      return refuse('budget-exhausted',
        `The ${window} budget of ${cluster} (${limit} ${currency}) cannot cover ${amount} ${currency}: ${fromMicro(spent)} charged and ${fromMicro(held)} held by open reservations.`,
        Number(retry));
    }
  }
}

/** Phase two: confirm after the response is stored (it is kept for replays), or cancel on failure. */
export async function finishBillable(redis: Redis, keys: ControlKeys, r: Reservation, op: 'confirm' | 'cancel', response?: unknown, traceId = ''): Promise<FinishOutcome> {
  const out = await defineScripts(redis).billableFinish5(
    ...scriptKeys(keys, r.cluster, r.idempotencyKey),
    op, r.idempotencyKey, r.token, JSON.stringify(response ?? null), DEFAULT_REPLAY_TTL_MS, r.cluster, traceId,
  );
  return out[0] as FinishOutcome;
}

export async function readBillable(redis: Redis, keys: ControlKeys, cluster: string, idempotencyKey: string): Promise<BillableRecord | undefined> {
  const h = await redis.hgetall(keys.billable(cluster).record(idempotencyKey));
  if (!h.state) return undefined;
  const iso = (ms: string | undefined) => new Date(Number(ms)).toISOString();
  // An open reservation past its expiry is expired, whether or not a sweep has released it yet.
  const state = h.state === 'reserved' && Number(h.expiresAt) <= Date.now() ? 'expired' : (h.state as BillableRecord['state']);
  return {
    actionId: `${cluster}:${idempotencyKey}`, state, action: h.action ?? '', amount: fromMicro(h.amount), currency: h.currency ?? '', digest: h.digest ?? '',
    reservedAt: iso(h.reservedAt), expiresAt: iso(h.expiresAt),
    ...(h.finishedAt ? { finishedAt: iso(h.finishedAt) } : {}),
    ...(h.response !== undefined ? { response: JSON.parse(h.response) as unknown } : {}),
  };
}

export async function billableStats(redis: Redis, keys: ControlKeys, cluster: string): Promise<BillableStats> {
  const b = keys.billable(cluster);
  const flat = await defineScripts(redis).billableStats4(b.record(''), b.open, b.held, b.totals);
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  const n = (k: string) => Number(h[k] ?? 0);
  return {
    pending: n('pending'), held: fromMicro(h.held), reserved: n('reserved'), confirmed: n('confirmed'), charged: fromMicro(h.charged),
    failed: n('cancelled') + n('expired'), cancelled: n('cancelled'), expired: n('expired'), refusedForBudget: n('refused'), conflicts: n('conflicts'),
  };
}

/** What the bot reads from the charge stream: one confirmed charge. */
export interface ConfirmedCharge {
  /** Stream entry id (`<ms>-<n>`): the collector's cursor. */
  id: string;
  cluster: string;
  actionId: string;
  token: string;
  action: string;
  amount: number;
  currency: string;
  at: string;
  digest: string;
  traceId: string;
}

/** Confirmed charges after `afterId` (exclusive), oldest first. */
export async function readCharges(redis: Redis, keys: ControlKeys, cluster: string, afterId: string, count = 1000): Promise<ConfirmedCharge[]> {
  const rows = await redis.xrange(keys.billable(cluster).charges, `(${afterId}`, '+', 'COUNT', count);
  return rows.map(([id, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    return {
      id, cluster: f.cluster ?? cluster, actionId: `${cluster}:${f.key}`, token: f.token ?? '', action: f.action ?? '', amount: fromMicro(f.amount),
      currency: f.currency ?? '', at: new Date(Number(f.at)).toISOString(), digest: f.digest ?? '', traceId: f.trace ?? '',
    };
  });
}
