import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { App } from '../app.js';
import { createConsoleSink } from '../chat/console/console-sink.js';
import type { Pipeline } from '../framework/pipeline.js';
import type { Reply } from '../framework/reply.js';
import { startSimulatedFleet, type ServiceMode, type SimulatedFleet } from '../sim/simulated-fleet.js';
import { shortId } from '../util/ids.js';

export interface RunningHealth {
  fleet?: SimulatedFleet;
  stop(): Promise<void>;
}

/** Starts the simulated fleet (if configured), the console alert sink and the health monitor for `start`/`console`. */
export async function startConsoleHealth(app: App, opts: { output: Writable; color: boolean }): Promise<RunningHealth> {
  const fleet = app.config.simulation.enabled ? await startSimulatedFleet(app.config.simulation, app.log.child({ component: 'fleet' })) : undefined;
  if (app.health) {
    app.health.deliverer.addSink(createConsoleSink({ output: opts.output, color: opts.color }));
    app.health.start();
  }
  return {
    ...(fleet ? { fleet } : {}),
    stop: async () => {
      await app.health?.stop();
      await fleet?.stop();
    },
  };
}

const local = (title: string, text: string, severity: Reply['severity'] = 'info'): Reply => ({
  title, text, severity, visibility: 'ephemeral', outcome: 'ok', traceId: shortId(), time: new Date().toISOString(),
});

/**
 * Console-only additions around the pipeline: `simulate break|heal|slow <service>` steers the simulated
 * fleet (never reachable from Slack or Discord), and attachments (post-mortems) are written under the
 * data directory with their path printed.
 */
export function withConsoleExtras(pipeline: Pipeline, opts: { dataDir: string; fleet?: SimulatedFleet }): Pipeline {
  return {
    ...pipeline,
    async handle(inv) {
      const words = inv.text.trim().replace(/^\/?infra\s+/i, '').split(/\s+/);
      if (words[0] === 'simulate') {
        const fleet = opts.fleet;
        if (!fleet) return local('No simulated fleet', 'Enable `simulation` in the config to use `simulate`.', 'warning');
        const [, action, name] = words;
        const mode: ServiceMode | undefined = action === 'break' ? 'broken' : action === 'heal' ? 'healthy' : action === 'slow' ? 'slow' : undefined;
        if (!mode || !name) {
          return local('Simulated fleet', fleet.services().map((s) => `${s.name} (${s.kind} :${s.port}) ${s.mode}`).join('\n') + '\n\nUsage: simulate break|heal|slow <service>');
        }
        try {
          fleet.set(name, mode);
        } catch (err) {
          return local('Unknown service', (err as Error).message, 'warning');
        }
        return local(`Simulated ${name} is now ${mode}`, mode === 'healthy' ? 'Watch the alert resolve (two good probes in a row).' : 'Watch for the alert (after two failed probes, about 20 s).', 'success');
      }
      const reply = await pipeline.handle(inv);
      if (!reply.attachments?.length) return reply;
      const dir = join(opts.dataDir, 'attachments');
      mkdirSync(dir, { recursive: true });
      const paths = reply.attachments.map((a) => {
        const file = join(dir, a.filename.replace(/[^\w.-]/g, '_'));
        writeFileSync(file, a.content);
        return file;
      });
      return { ...reply, text: [reply.text, ...paths.map((p) => `Written to ${p}`)].filter(Boolean).join('\n') };
    },
  };
}
