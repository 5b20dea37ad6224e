/** The tracing port: spans around the pipeline, store commits, received alerts and chat API calls. */
export type SpanAttributes = Record<string, string | number | boolean>;

export interface Tracer {
  /** Runs `fn` in a span (a child of the active one); `set` adds attributes known only at the end. */
  span<T>(name: string, attributes: SpanAttributes, fn: (set: (more: SpanAttributes) => void) => Promise<T>): Promise<T>;
  /** Exports what is buffered (tests, shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Tracing off: no SDK loaded, no cost beyond one call. */
export const noTracer: Tracer = {
  span: (_name, _attributes, fn) => fn(() => undefined),
  flush: async () => undefined,
  shutdown: async () => undefined,
};
