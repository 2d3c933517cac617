export { createWindowsHost, type WindowsHostOptions } from './windows-host.js';
export { WindowsServiceControl, describeExitCodes, uncServer, type WindowsServiceControlOptions } from './windows-service-control.js';
export { WIN32_TABLE, win32Error, win32Name, type Win32Operation } from './win32-errors.js';
export { checkServerName, uncKmsdataParts, type UncParts } from './remote-target.js';
export { parseEventLogRecords, encodeEventLogRecord, type ServiceEvent } from './event-log-records.js';
export { startupDiskFile } from './startup-disk-path.js';
