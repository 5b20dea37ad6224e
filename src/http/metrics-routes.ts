import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics/create-metrics.js';

export interface MetricsRoutesOptions {
  /** The app's metrics (`app.metrics`). */
  metrics: Metrics;
}

/**
 * `GET /metrics`: infrabot's own metrics in the Prometheus text format. Register it where Prometheus can
 * scrape it; it exposes no secrets (cluster, check and platform names only).
 */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, opts) => {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await opts.metrics.render();
    return reply.type(opts.metrics.contentType).send(body);
  });
};
