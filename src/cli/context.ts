import { silentLogger, type Logger } from "../lib/log.js";

/** What main gives every command besides its arguments and I/O. */
export interface CommandContext {
  /** Off unless --verbose (info) or --debug (debug). */
  logger: Logger;
}

export const defaultContext: CommandContext = { logger: silentLogger };
