export { createWindowsHost, type WindowsHostOptions } from './windows-host.js';
export { WindowsServiceControl, describeExitCodes, type WindowsServiceControlOptions } from './windows-service-control.js';
export { parseScQuery, parseScFailure, serviceStateOf, SERVICE_STATE_CODES, WIN32_ERRORS } from './sc-query-parser.js';
export type { ScFailure, ScResult, ScServiceStatus, ScStateCode, ScStateName } from './sc-query-parser.js';
export { powershellArgs, resolveWindowsTools, scQueryArgs, scStopArgs, checkServiceName, type WindowsTools } from './sc-commands.js';
export { buildStartInput, buildStartScript, parseStartResult, RESULT_MARKER, type StartScriptResult, type ServiceEvent } from './powershell-start.js';
export { runProcess, ProcessStartError, type ProcessResult, type RunProcessOptions } from './run-process.js';
export { startupDiskFile, STARTUP_DISK_FILE } from './startup-disk-path.js';
