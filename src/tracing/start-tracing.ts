import type { Logger } from 'pino';
import { noTracer, type Tracer } from './tracer.js';
import { setActiveTraceIdSource } from './active-trace-id.js';

export interface TracingConfig {
  /** OTLP/HTTP base URL (spans go to `<endpoint>/v1/traces`); unset: tracing is off and the SDK is never loaded. */
  otlpEndpoint?: string | undefined;
  serviceName: string;
}

/**
 * Starts OpenTelemetry tracing over OTLP/HTTP when configured. The SDK is imported here, on demand, so a bot
 * without tracing (and every CLI call) never loads it. Spans nest through async calls (AsyncLocalStorage).
 */
export async function startTracing(config: TracingConfig, log: Logger): Promise<Tracer> {
  if (!config.otlpEndpoint) return noTracer;
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, api] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/api'),
  ]);
  const exporter = new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`, timeoutMillis: 5000 });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  const tracer = provider.getTracer('infrabot');
  setActiveTraceIdSource(() => api.trace.getActiveSpan()?.spanContext().traceId);
  log.info({ endpoint: config.otlpEndpoint }, 'tracing: exporting spans over OTLP/HTTP');
  return {
    span(name, attributes, fn) {
      return tracer.startActiveSpan(name, { attributes }, async (span) => {
        try {
          return await fn((more) => span.setAttributes(more));
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      setActiveTraceIdSource(() => undefined);
      await provider.shutdown();
    },
  };
}
