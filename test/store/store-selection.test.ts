import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { storeLocation } from '../../src/store/store-location.js';
import { TEST_CONFIG } from '../helpers/test-app.js';

describe('choosing the store: storage.url, DATABASE_URL, else SQLite', () => {
  it('uses the embedded SQLite file in the data directory by default', () => {
    expect(storeLocation(parseConfig(TEST_CONFIG, 't.yaml', {}), '/var/lib/infrabot')).toEqual({ backend: 'sqlite', file: '/var/lib/infrabot/infrabot.db' });
  });

  it('takes DATABASE_URL when the file names no database, and shows it without user or password', () => {
    const config = parseConfig(TEST_CONFIG, 't.yaml', { DATABASE_URL: 'postgres://bot:s3cret@db.internal:5433/infra' });
    expect(storeLocation(config, '/d')).toEqual({ backend: 'postgres', url: 'postgres://bot:s3cret@db.internal:5433/infra', display: 'db.internal:5433/infra' });
  });

  it("prefers the file's storage.url over DATABASE_URL", () => {
    const config = parseConfig(`${TEST_CONFIG}\nstorage: { url: "postgresql://a@file-db/x" }\n`, 't.yaml', { DATABASE_URL: 'postgres://b@env-db/y' });
    expect(storeLocation(config, '/d')).toMatchObject({ backend: 'postgres', display: 'file-db/x' });
  });

  it('refuses a DATABASE_URL that is not PostgreSQL without echoing it (it may hold a password)', () => {
    expect(() => parseConfig(TEST_CONFIG, 't.yaml', { DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrow(/^DATABASE_URL: expected a postgres:\/\/ or postgresql:\/\/ URL$/);
    expect(() => parseConfig(`${TEST_CONFIG}\nstorage: { url: "mysql://db/x" }\n`, 't.yaml', {})).toThrow(/storage\.url: .*postgres/);
  });
});
