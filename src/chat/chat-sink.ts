// The chat sink is a port of the engine (src/engine/ports.ts); each adapter implements it.
export { ChatRateLimitedError, type ChatSink, type PostedMessage } from '../engine/ports.js';
