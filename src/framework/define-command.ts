import { z } from 'zod';
import { subjectProblem } from '../auth/subjects.js';
import { quoteForMessage } from '../util/quote-for-message.js';
import type { Role } from '../auth/roles.js';
import type { HandlerReply } from './reply.js';
import type { CommandContext, CommandServices } from './command-context.js';

/**
 * A subcommand is data: name, summary, options as a zod object, the role it needs and a handler.
 * Help, text parsing, Discord registration and docs are derived from it.
 */
export interface SubcommandDef<S extends z.ZodObject = z.ZodObject, D extends z.ZodType = z.ZodType> {
  name: string;
  summary: string;
  options: S;
  /** Option names taken from bare words, in order (`cluster disable api` → cluster=api). */
  positionals?: readonly (keyof z.infer<S> & string)[];
  /** The role needed; 'anyone' for commands that must work before a user has a role (help, whoami). */
  role: Role | 'anyone';
  /**
   * Which cluster the role is checked on; omitted (or undefined) means the role is needed globally. May look
   * the cluster up (an alert or incident id → its cluster) through the app's services.
   */
  clusterOf?: (args: z.infer<S>, lookup: { services?: CommandServices }) => string | undefined | Promise<string | undefined>;
  /**
   * An unscoped read listing rows of many clusters (status, alert list…): a user holding the role on some
   * clusters only is shown those (the handler filters with `ctx.canSee`) instead of being denied.
   */
  listsClusters?: boolean;
  /** Dangerous actions ask for confirmation before running. */
  dangerous?: (args: z.infer<S>) => string | undefined;
  /**
   * A line added to the confirmation of a dangerous action saying what it would do to live traffic
   * ("Impact: disabling api rejects ~1,240 req/s from 3 services"). Must not throw.
   */
  impact?: (args: z.infer<S>, lookup: { services?: CommandServices }) => Promise<string | undefined>;
  /** Changes control state: the reply is posted in channel and handed the team. */
  mutates?: boolean;
  examples: readonly string[];
  /**
   * Shape of the reply's structured `data` (what `--json` prints and the HTTP API returns): booleans,
   * numbers, ISO times and ids, no display text. Documented in docs/commands.md and the OpenAPI document.
   */
  data: D;
  handler: (args: z.infer<S>, ctx: CommandContext) => Promise<HandlerReply<z.output<D>> & { data: z.output<D> }> | (HandlerReply<z.output<D>> & { data: z.output<D> });
}

export interface CommandGroupDef {
  name: string;
  summary: string;
  subcommands: readonly SubcommandDef[];
  /** The subcommand run when none is named (`/infra audit --user x` runs `audit search`). */
  defaultSubcommand?: string;
}

/** Keeps the handler's argument type tied to its schema while storing it type-erased. */
export function defineSubcommand<S extends z.ZodObject, D extends z.ZodType>(def: SubcommandDef<S, D>): SubcommandDef {
  return def as unknown as SubcommandDef;
}

export function defineGroup(def: CommandGroupDef): CommandGroupDef {
  return def;
}

/** Option kinds that adapters can offer smarter input for (user pickers, autocomplete). */
export type InfraOptionType = 'user' | 'cluster' | 'duration' | 'time' | 'role' | 'id';

const INCIDENT_ID = /^(inc-?)?0*[1-9]\d{0,8}$/i;

/**
 * Longest free text each kind of option takes, so every value fits whole in one Slack or Discord message
 * (a Slack header holds 150 characters, a Discord embed field 1,024) and never has to be cut. A value over
 * the limit is refused with the limit in the message; nothing is truncated. See docs/commands.md.
 */
export const TEXT_LIMITS = { title: 100, reason: 500, message: 1000, name: 100 } as const;

/** Shortest reason: "x" or "." records nothing an auditor can use. Stated in the option's description (docs, help). */
export const MIN_REASON = 3;

const tooLong = (max: number) => ({
  error: (iss: { input?: unknown }) =>
    `${typeof iss.input === 'string' ? iss.input.length.toLocaleString('en-US') : 'too many'} characters is over the limit of ${max.toLocaleString('en-US')}, so that it fits in a Slack or Discord message; shorten it`,
});

export const opt = {
  /** Free text of at most `max` characters (see TEXT_LIMITS); `min` trimmed characters at least. */
  text: (description: string, max: number, min = 1) =>
    z
      .string()
      .trim()
      .min(min, min > 1 ? `at least ${min} characters are required` : 'must not be empty')
      .max(max, tooLong(max))
      .describe(description),
  cluster: (description = 'Cluster name') =>
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'cluster names are lower-case letters, digits and dashes')
      .describe(description)
      .meta({ infraType: 'cluster' }),
  user: (description = 'User (name, @mention or platform:id)') =>
    z
      .string()
      .min(1)
      .max(TEXT_LIMITS.name, tooLong(TEXT_LIMITS.name))
      .superRefine((subject, ctx) => {
        const problem = subjectProblem(subject);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe(description)
      .meta({ infraType: 'user' }),
  reason: (description = `Why, at least ${MIN_REASON} characters (recorded in the audit log)`) =>
    z.string().trim().min(MIN_REASON, `a reason of at least ${MIN_REASON} characters is required`).max(TEXT_LIMITS.reason, tooLong(TEXT_LIMITS.reason)).describe(description),
  duration: (description: string) => z.string().max(TEXT_LIMITS.name, tooLong(TEXT_LIMITS.name)).describe(description).meta({ infraType: 'duration' }),
  time: (description: string) => z.string().max(TEXT_LIMITS.name, tooLong(TEXT_LIMITS.name)).describe(description).meta({ infraType: 'time' }),
  /** An incident as any reply shows it: INC-12, inc-12 or 12. Handlers get the number. */
  incident: (description = 'Incident id: INC-12, inc-12 or 12') =>
    z
      .string()
      .trim()
      .superRefine((v, ctx) => {
        if (!INCIDENT_ID.test(v)) ctx.addIssue({ code: 'custom', message: `${quoteForMessage(v)} is not an incident id; use it as shown, e.g. INC-12 (or just 12)` });
      })
      .transform((v) => Number(v.replace(/^inc-?/i, '')))
      .describe(description)
      .meta({ infraType: 'id' }),
  limit: (description: string) => z.number().int().positive().describe(description),
};
