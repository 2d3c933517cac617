import { parseEventLogRecords, type ServiceEvent } from './event-log-records.js';
import { win32 } from './win32-ffi.js';

const EVENTLOG_SEQUENTIAL_READ = 0x0001;
const EVENTLOG_BACKWARDS_READ = 0x0008;
const ERROR_INSUFFICIENT_BUFFER = 122;
const MAX_EVENTS = 5;
const MAX_READS = 64;

/**
 * The Application-log events of `source` written since `since` (newest first, at most five),
 * read with OpenEventLogW/ReadEventLogW on `server` (or this computer). Whatever cannot be read
 * (no rights, a log Windows does not serve, a network error) gives no events, never an error:
 * the events only add to a message.
 */
export function readServiceEvents(source: string, since: Date, server?: string): ServiceEvent[] {
  let f: ReturnType<typeof win32>;
  try {
    f = win32();
  } catch {
    return [];
  }
  const log = f.OpenEventLogW(server ?? null, 'Application') as object | null;
  if (!log) return [];
  const sinceSeconds = Math.floor(since.getTime() / 1000);
  const found: ServiceEvent[] = [];
  try {
    let buffer = Buffer.alloc(64 * 1024);
    for (let reads = 0; reads < MAX_READS && found.length < MAX_EVENTS; reads++) {
      const read = [0];
      const needed = [0];
      if (!f.ReadEventLogW(log, EVENTLOG_SEQUENTIAL_READ | EVENTLOG_BACKWARDS_READ, 0, buffer, buffer.length, read, needed)) {
        if (f.GetLastError() === ERROR_INSUFFICIENT_BUFFER && (needed[0] ?? 0) > buffer.length && (needed[0] ?? 0) <= 1 << 20) {
          buffer = Buffer.alloc(needed[0] ?? 0);
          continue;
        }
        break; // ERROR_HANDLE_EOF, or anything else: what was read is all there is
      }
      const records = parseEventLogRecords(buffer, read[0] ?? 0);
      if (records.length === 0) break;
      for (const record of records) {
        if (record.timeGenerated < sinceSeconds) return found;
        if (record.source.toLowerCase() === source.toLowerCase() && found.length < MAX_EVENTS) found.push(record);
      }
    }
  } catch {
    return found;
  } finally {
    f.CloseEventLog(log);
  }
  return found;
}

/** `event 1 (error): "text"; event 2 (...)`, for a message; undefined when there are none. */
export function describeEvents(events: readonly ServiceEvent[]): string | undefined {
  if (events.length === 0) return undefined;
  return events.map((e) => {
    const text = e.strings.map((s) => s.replace(/\s+/g, ' ').trim()).filter(Boolean).join(' | ');
    return `event ${e.id} (${e.type})${text ? `: "${text.slice(0, 300)}"` : ''}`;
  }).join('; ');
}
