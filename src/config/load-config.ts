import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { describeConfigIssue } from './describe-config-issue.js';
import { configSchema, type InfrabotConfig } from './config-schema.js';
import { PACKAGE_ROOT } from '../util/package-root.js';

/** A bad config file: the message names the file, the path inside it and what was expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const EXAMPLE_CONFIG = join(PACKAGE_ROOT, 'data', 'infrabot.example.yaml');

export interface LoadedConfig {
  file: string;
  config: InfrabotConfig;
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return { file, config: parseConfig(text, file, env) };
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv): InfrabotConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    const pos = err instanceof YAMLParseError ? err.linePos?.[0] : undefined;
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    // The parser's own position suffix ("at line 3, column 8:") introduces a code excerpt we do not print.
    const what = (err as Error).message.split('\n')[0]!.replace(/\s*at line \d+, column \d+:?\s*$/, '');
    throw new ConfigError(`${file}${where}: not valid YAML: ${what}`);
  }
  const interpolated = interpolate(raw ?? {}, [], file, env);
  const result = configSchema.safeParse(interpolated, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${describeConfigIssue(i, configSchema)}`);
    throw new ConfigError(`${file}: invalid configuration\n${lines.join('\n')}`);
  }
  const config = result.data;
  // REDIS_URL configures Redis when the file does not (the usual way to point a container at it).
  if (!config.redis.url && env.REDIS_URL) {
    // Not echoed: the URL may carry a password.
    if (!/^rediss?:\/\//.test(env.REDIS_URL)) throw new ConfigError('REDIS_URL: expected a redis:// or rediss:// URL');
    config.redis.url = env.REDIS_URL;
  }
  // DATABASE_URL selects PostgreSQL when the file names no database (the file's storage.url wins, as for Redis).
  if (!config.storage.url && env.DATABASE_URL) {
    // Not echoed: the URL may carry a password.
    if (!/^postgres(ql)?:\/\//i.test(env.DATABASE_URL)) throw new ConfigError('DATABASE_URL: expected a postgres:// or postgresql:// URL');
    config.storage.url = env.DATABASE_URL;
  }
  return config;
}

/** Replaces ${VAR} and ${VAR:-default} in string values, so secrets stay out of the file. */
function interpolate(value: unknown, path: (string | number)[], file: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`${file}: ${path.join('.')}: environment variable ${name} is not set`);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], file, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], file, env)]));
  }
  return value;
}
