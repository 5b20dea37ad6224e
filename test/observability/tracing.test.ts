import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/redis.js';
import { BASE_CONFIG, cluster, healthApp } from '../health/health-helpers.js';

interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[] }

/** A minimal OTLP/HTTP collector: keeps the spans of every JSON export it receives. */
async function fakeCollector() {
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const r of doc.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, paths, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const attr = (s: OtlpSpan, key: string) => { const v = s.attributes.find((a) => a.key === key)?.value; return v?.stringValue ?? v?.intValue; };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  it('one trace per command: the pipeline span carries the ref users see, the store commit nests in it; a received alert traces to the chat hand-off', async () => {
    const collector = await fakeCollector();
    cleanups.push(() => collector.close());
    const h = await healthApp(BASE_CONFIG(cluster('api', []), `tracing: { otlpEndpoint: "${collector.url}" }`));
    cleanups.push(() => h.app.cleanup());

    const reply = await h.app.run('killswitch on --reason "trace me"', { confirmed: true });
    await h.app.health!.receiveAlerts([{ status: 'firing', name: 'DiskFull', cluster: 'api', severity: 'warning', summary: 'Disk full', external: { source: 'alertmanager', fingerprint: 'ab12', labels: { alertname: 'DiskFull' }, links: [] } }]);
    await h.app.health!.deliverer.drain();
    await h.app.tracer.flush();
    await eventually(() => collector.spans.some((s) => s.name === 'chat.deliver'), 5000, 'spans to be exported');
    expect(collector.paths[0]).toBe('POST /v1/traces application/json');

    const command = collector.spans.find((s) => s.name === 'infrabot.command')!;
    expect(attr(command, 'infrabot.ref')).toBe(reply.traceId);
    expect(attr(command, 'infrabot.outcome')).toBe('ok');
    const commit = collector.spans.find((s) => s.name === 'store.commit' && s.traceId === command.traceId)!;
    expect(commit.parentSpanId).toBe(command.spanId);

    const received = collector.spans.find((s) => s.name === 'alerts.receive')!;
    expect(attr(received, 'alerts.source')).toBe('alertmanager');
    const inTrace = collector.spans.filter((s) => s.traceId === received.traceId).map((s) => s.name).sort();
    expect(inTrace).toEqual(['alerts.receive', 'chat.deliver', 'store.commit']);
    expect(received.traceId).not.toBe(command.traceId);
    // Log lines written inside a span carry its trace id.
    const logged = h.app.logs.lines.map((l) => JSON.parse(l) as { msg: string; trace_id?: string });
    expect(logged.find((l) => l.msg === 'received alerts')?.trace_id).toBe(received.traceId);
  });

  it('is off without an endpoint: no SDK, a pass-through tracer', async () => {
    const h = await healthApp(BASE_CONFIG(cluster('api', [])));
    cleanups.push(() => h.app.cleanup());
    const { noTracer } = await import('../../src/tracing/tracer.js');
    expect(h.app.tracer).toBe(noTracer);
  });
});
