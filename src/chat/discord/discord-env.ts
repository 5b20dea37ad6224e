import { z } from 'zod';

const snowflake = z.string().regex(/^\d{5,20}$/, 'expected a Discord id (digits)');

/** The environment the Discord adapter reads. Values are never echoed back in errors (the token is a secret). */
export const discordEnvSchema = z.object({
  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_APPLICATION_ID: snowflake.optional(),
  DISCORD_PUBLIC_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'expected the 64 hex characters shown as "Public Key" in the developer portal')
    .optional(),
  DISCORD_INTERACTIONS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Host the interactions endpoint binds to. */
  DISCORD_INTERACTIONS_HOST: z.string().min(1).default('0.0.0.0'),
  /** REST base (`https://discord.com/api`); point it at a proxy or a local fake. */
  DISCORD_API_URL: z.url().optional(),
});

export type DiscordEnv = z.infer<typeof discordEnvSchema>;

/** Empty strings mean "unset" (docker-compose and shells leave `VAR=` behind). */
function present(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(discordEnvSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') out[key] = value.trim();
  }
  return out;
}

export function parseDiscordEnv(env: NodeJS.ProcessEnv): DiscordEnv {
  const result = discordEnvSchema.safeParse(present(env));
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid Discord settings: ${problems}`);
  }
  return result.data;
}

/** Public key and port select the HTTP interactions endpoint; otherwise the bot connects to the gateway. */
export function discordMode(env: DiscordEnv): 'http' | 'gateway' {
  return env.DISCORD_PUBLIC_KEY && env.DISCORD_INTERACTIONS_PORT !== undefined ? 'http' : 'gateway';
}

export function discordConfigured(env: NodeJS.ProcessEnv): boolean {
  const p = present(env);
  return Boolean(p.DISCORD_TOKEN || (p.DISCORD_PUBLIC_KEY && p.DISCORD_INTERACTIONS_PORT !== undefined));
}
