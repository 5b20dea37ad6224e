import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load-config.js';

const errorOf = (yaml: string): string => {
  try {
    parseConfig(yaml, 'x.yaml', {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
};

const limits = 'rateLimits: { perMinute: 6, perHour: 20, perDay: 30 }';

describe('config errors', () => {
  it('refuses rate limits that `ratelimit set` would refuse, with the same rule and wording', () => {
    const message = errorOf(`clusters:\n  api:\n    rateLimits: { perMinute: 600000, perHour: 20, perDay: 30 }\n`);
    expect(message).toContain('clusters.api.rateLimits: rate limits must not shrink over longer windows: per-minute 600000 ≤ per-hour 20');
    expect(errorOf(`clusters:\n  api:\n    rateLimits: { perMinute: 6, perHour: 20, perDay: 2000000000 }\n`)).toContain('clusters.api.rateLimits.perDay');
  });

  it('names the value of a bad duration and of an unknown time zone, and reports every problem at once', () => {
    const message = errorOf(`clusters:
  api:
    ${limits}
    maintenance: [{ start: "02:00", duration: 5 minutes, timezone: Mars/Base }]
    checks:
      - { name: a, type: http, url: "http://x/", interval: 10 seconds }
admin: [local:x]
`);
    expect(message).toContain('clusters.api.checks.0.interval: expected a duration such as 30s, 5m, 2h or 1d (got "10 seconds")');
    expect(message).not.toContain('must be at least');
    expect(message).toContain('clusters.api.maintenance.0.duration: expected a duration such as 30s, 5m, 2h or 1d (got "5 minutes")');
    expect(message).toContain('clusters.api.maintenance.0.timezone: unknown time zone "Mars/Base"');
    expect(message).toContain('(top level): unknown key "admin" (did you mean "admins"?)');
  });

  it('one bad value does not hide the checks across clusters (duplicate check names, window patterns)', () => {
    const message = errorOf(`clusters:
  API: { ${limits} }
  api:
    ${limits}
    checks:
      - { name: a, type: http, url: "http://x/" }
      - { name: a, type: http, url: "http://x/" }
    maintenance: [{ cron: "99 * * * *", duration: 1h }]
log: { level: loud }
`);
    expect(message).toContain('log.level: "loud" is not allowed; expected one of fatal, error, warn, info, debug, trace');
    expect(message).toContain('clusters.API: the name "API" is not allowed: cluster names are lower-case letters, digits and dashes');
    expect(message).toContain('clusters.api.checks.1.name: duplicate check name "a"');
    expect(message).toContain('clusters.api.maintenance.0.cron: invalid maintenance window pattern');
  });

  it('suggests the key or value meant and never shows raw zod wording', () => {
    const message = errorOf(`clusters:
  api: { ${limits}, descrption: x, checks: [{ name: a, type: htp, url: "http://x/" }] }
simulation: { enabled: yes }
`);
    expect(message).toContain('clusters.api: unknown key "descrption" (did you mean "description"?)');
    expect(message).toContain('unknown type "htp" (did you mean "http"?)');
    expect(message).toContain('simulation.enabled: "yes" is not valid');
    expect(message).not.toMatch(/Unrecognized key|Invalid input|Invalid discriminator/);
  });

  it('gives the YAML error its line and column without the parser\'s dangling "column 3:"', () => {
    const message = errorOf('clusters:\n  api:\n    a: b: c\n');
    expect(message).toMatch(/^x\.yaml at line 3, column \d+: not valid YAML: Nested mappings are not allowed in compact mappings$/);
  });
});
