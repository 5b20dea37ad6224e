import { z } from 'zod';
import { parsePublicKey } from '../audit/signing-key.js';
import { parseDuration } from '../util/duration.js';
import { channels } from './health-config-schema.js';

const publicKey = z.string().superRefine((value, ctx) => {
  try {
    parsePublicKey(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** The audit log's signing key, checkpoints and witnesses (docs/audit.md). */
export const auditSchema = z
  .object({
    /** Directory of the signing key and, by default, the checkpoint file; never inside the data directory. */
    keyDir: z.string().min(1).optional(),
    /** The checkpoint file (a witness outside the database); default <keyDir>/checkpoints.jsonl. */
    witnessFile: z.string().min(1).optional(),
    checkpoint: z
      .object({
        records: z.number().int().min(1).max(1_000_000).default(1000),
        interval: z
          .string()
          .refine((v) => (parseDuration(v) ?? 0) >= 10_000, 'expected a duration of at least 10s, such as 10m')
          .default('10m'),
      })
      .strict()
      .default({ records: 1000, interval: '10m' }),
    /** Chat channels each checkpoint's hash is posted to, per platform (chat history as a witness). */
    channels: channels.default({}),
    /** Public keys of earlier signing keys to trust (ed25519:…), e.g. when the key comes from the environment. */
    trustedKeys: z.array(publicKey).default([]),
  })
  .strict();

export type AuditConfig = z.infer<typeof auditSchema>;
