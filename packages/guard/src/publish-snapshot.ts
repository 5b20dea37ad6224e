import type { Redis } from 'ioredis';
import { defineScripts } from './define-scripts.js';
import type { ControlKeys } from './keys.js';
import type { ControlSnapshot } from './snapshot.js';

/**
 * Stores a snapshot and announces it on the channel (publish-snapshot-1.lua), unless Redis already holds
 * one at least as new. `prev` is the version this one follows, so guards can tell a gap from a step.
 * Returns false when the stored snapshot was as new or newer. (Used by the bot, not by services.)
 */
export async function publishSnapshot(redis: Redis, keys: ControlKeys, snapshot: ControlSnapshot, prev: number): Promise<boolean> {
  const doc = JSON.stringify(snapshot);
  const announcement = `{"prev":${prev},"snapshot":${doc}}`;
  return (await defineScripts(redis).publishSnapshot1(keys.snapshot, snapshot.version, doc, keys.channel, announcement)) === 1;
}

/** The version Redis holds (-1 when none): what the bot compares with its store on start. */
export async function publishedVersion(redis: Redis, keys: ControlKeys): Promise<number> {
  const v = await redis.hget(keys.snapshot, 'version');
  return v === null ? -1 : Number(v);
}
