import type { Pipeline } from '../framework/pipeline.js';
import type { Reply } from '../framework/reply.js';
import type { Tracer } from './tracer.js';

/**
 * The pipeline with a span per invocation (`infrabot.command`): the store commit and anything else it awaits
 * nest inside it. The span carries `infrabot.ref`, the trace id users see as "ref", so a ref quoted from chat
 * finds the trace. With tracing off, the pipeline itself is returned.
 */
export function tracePipeline(pipeline: Pipeline, tracer: Tracer, enabled: boolean): Pipeline {
  if (!enabled) return pipeline;
  const done = (set: (a: Record<string, string>) => void, r: Reply) => (set({ 'infrabot.ref': r.traceId, 'infrabot.outcome': r.outcome }), r);
  return {
    ...pipeline,
    registry: pipeline.registry,
    handle: (inv) => tracer.span('infrabot.command', { 'infrabot.platform': inv.platform, 'infrabot.text': inv.text.slice(0, 200) }, async (set) => done(set, await pipeline.handle(inv))),
    handleAction: (id, inv) => tracer.span('infrabot.button', { 'infrabot.platform': inv.platform }, async (set) => done(set, await pipeline.handleAction(id, inv))),
  };
}
