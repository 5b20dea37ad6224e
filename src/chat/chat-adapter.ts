import type { Logger } from 'pino';
import type { App } from '../app.js';
import type { ChatSink } from './chat-sink.js';

/** A running chat adapter: it verifies, acks, maps platform events to Invocations and renders Replies. */
export interface ChatAdapter {
  readonly name: string;
  readonly sink?: ChatSink;
  stop(): Promise<void>;
}

export interface AdapterFactory {
  name: string;
  /** True when the environment holds this adapter's credentials. */
  configured(env: NodeJS.ProcessEnv): boolean;
  start(deps: { app: App; env: NodeJS.ProcessEnv; log: Logger }): Promise<ChatAdapter>;
}
