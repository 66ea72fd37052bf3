// Runtime helpers with I/O, shared by the three components' shells.
export { createLogger, silentLogger, type Logger } from './logger.ts';
export {
  ADMIN_MAX_CONNECTIONS,
  startAdminServer,
  type AdminServer,
  type AdminServerOptions,
} from './admin-server.ts';
export { runCli, untilSignal } from './cli.ts';
export { answerCommandLine, type CommandOptions } from './command.ts';
export { BUILD_INFO, registerBuildInfo, versionLine, type BuildInfo } from './build-info.ts';
export { listenFailure } from './startup-error.ts';
export { processIO, readInput, type CliIO } from './input.ts';
export { hostsFromFlags, RenderFailure, renderFlags, runRenderCommand } from './render.ts';
export { apiStatus, describeApiError, isConflict, isNotFound } from './api-status.ts';
export {
  done,
  retry,
  terminal,
  WorkQueue,
  type WorkQueueOptions,
  type WorkResult,
} from './work-queue.ts';
