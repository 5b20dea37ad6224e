import { z } from 'zod';

/** Config for alerts received from Alertmanager and Grafana (docs/alerts-from-prometheus.md). */

// Empty strings come from unset ${ENV} interpolation: treated as "not configured".
const secret = z
  .string()
  .optional()
  .transform((s) => (s ? s : undefined))
  .refine((s) => s === undefined || s.length >= 16, 'use at least 16 characters (a random token, e.g. `openssl rand -hex 24`)');

const labelMatch = z.record(z.string(), z.string());

export const receiversSchema = z
  .object({
    alertmanager: z
      .object({
        /** Bearer token Alertmanager sends (`http_config.authorization.credentials`). Without one the receiver is off. */
        token: secret,
        /** Alertmanager's own URL: `/infra alert silence` on a received alert also silences it there. */
        url: z
          .string()
          .optional()
          .transform((u) => (u ? u.replace(/\/+$/, '') : undefined))
          .refine((u) => u === undefined || /^https?:\/\//.test(u), 'expected an http:// or https:// URL'),
      })
      .strict()
      .default({ token: undefined, url: undefined }),
    grafana: z
      .object({
        /** Bearer token Grafana's webhook contact point sends (Authorization header credentials). */
        token: secret,
        /** Grafana's "HMAC signature" secret: `X-Grafana-Alerting-Signature` is then required and verified. */
        hmacSecret: secret,
      })
      .strict()
      .default({ token: undefined, hmacSecret: undefined }),
    /** Which labels name infrabot's cluster and the alert's severity. */
    labels: z
      .object({ cluster: z.string().min(1).default('cluster'), severity: z.string().min(1).default('severity') })
      .strict()
      .default({ cluster: 'cluster', severity: 'severity' }),
    /** The cluster of an alert without the cluster label. */
    defaultCluster: z.string().min(1).default('external'),
    /** Severity label values that page as critical; every other value (or none) is a warning. */
    critical: z.array(z.string()).default(['critical', 'page', 'error']),
    /** Received alerts whose labels all match one entry open an incident of that severity (one per cluster). */
    incidents: z.array(z.object({ match: labelMatch, sev: z.number().int().min(1).max(4) }).strict()).default([]),
  })
  .strict();

export type ReceiversConfig = z.infer<typeof receiversSchema>;
