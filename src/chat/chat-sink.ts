// The chat sink is a port of the engine (src/engine/ports.ts); each adapter implements it.
export {
  ChatRateLimitedError,
  ChatRefusedError,
  ChatTargetGoneError,
  type ChatSink,
  type PostOptions,
  type PostedMessage,
  type SendOptions,
} from '../engine/ports.js';
