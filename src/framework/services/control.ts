import type { ControlServices } from '../../engine/control-services.js';

// The control channel and live traffic, for command handlers (`ctx.services.control`).
declare module '../command-context.js' {
  interface CommandServices {
    control?: ControlServices;
  }
}
