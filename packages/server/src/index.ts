export { createHandler, type HandlerOptions } from './app.js';
export {
  startSpool,
  openDataDir,
  defaultOptions,
  type SpoolOptions,
  type RunningSpool,
} from './spool.js';
export { jsonLogger, silentLogger, type Logger, type LogLevel } from './log.js';
export type { Services } from './services.js';
export type * from './store/types.js';
