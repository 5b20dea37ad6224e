/**
 * The OpenTelemetry trace id of the active span, for log lines (a pino mixin). Set by startTracing once the SDK
 * is loaded; without tracing it answers undefined and costs one call.
 */
let current: () => string | undefined = () => undefined;

export const activeTraceId = (): string | undefined => current();

export function setActiveTraceIdSource(source: () => string | undefined): void {
  current = source;
}
