/**
 * EVENTLOGRECORD, as ReadEventLogW returns them one after another in its buffer:
 * 56 bytes of fixed fields, then the source name and computer name (UTF-16LE, NUL-ended),
 * the insertion strings at StringOffset, and the record's length again at its end.
 */

/** One event of the Application log, as the tool reports it (no user SID, no binary data). */
export interface ServiceEvent {
  /** The event ID as the Event Viewer shows it (the low 16 bits). */
  id: number;
  type: 'error' | 'warning' | 'information' | 'audit-success' | 'audit-failure' | 'other';
  /** Seconds since 1970-01-01 UTC. */
  timeGenerated: number;
  source: string;
  /** The insertion strings (the message text proper lives in the source's message DLL). */
  strings: string[];
}

const EVENT_TYPES: Readonly<Record<number, ServiceEvent['type']>> = {
  0x0001: 'error', 0x0002: 'warning', 0x0004: 'information', 0x0008: 'audit-success', 0x0010: 'audit-failure',
};

const FIXED_SIZE = 56;
const MAX_STRINGS = 16;

function utf16z(buffer: Buffer, offset: number, end: number): { text: string; next: number } {
  let i = offset;
  while (i + 1 < end && (buffer[i] !== 0 || buffer[i + 1] !== 0)) i += 2;
  return { text: buffer.toString('utf16le', offset, i), next: i + 2 };
}

/** Every well-formed record in `buffer[0, length)`; stops at the first malformed one. */
export function parseEventLogRecords(buffer: Buffer, length: number = buffer.length): ServiceEvent[] {
  const events: ServiceEvent[] = [];
  let at = 0;
  while (at + FIXED_SIZE <= length) {
    const size = buffer.readUInt32LE(at);
    if (size < FIXED_SIZE || at + size > length) break;
    const end = at + size;
    const numStrings = Math.min(buffer.readUInt16LE(at + 26), MAX_STRINGS);
    const source = utf16z(buffer, at + FIXED_SIZE, end);
    const strings: string[] = [];
    let s = at + buffer.readUInt32LE(at + 36);
    for (let i = 0; i < numStrings && s < end; i++) {
      const next = utf16z(buffer, s, end);
      strings.push(next.text);
      s = next.next;
    }
    events.push({
      id: buffer.readUInt32LE(at + 20) & 0xffff,
      type: EVENT_TYPES[buffer.readUInt16LE(at + 24)] ?? 'other',
      timeGenerated: buffer.readUInt32LE(at + 12),
      source: source.text,
      strings,
    });
    at = end;
  }
  return events;
}

/** Build one record (tests, and the shape documented above). */
export function encodeEventLogRecord(event: Omit<ServiceEvent, 'type'> & { type?: number; computer?: string }): Buffer {
  const source = Buffer.from(`${event.source}\0`, 'utf16le');
  const computer = Buffer.from(`${event.computer ?? 'KMSSERVER'}\0`, 'utf16le');
  const strings = Buffer.from(event.strings.map((s) => `${s}\0`).join(''), 'utf16le');
  const body = FIXED_SIZE + source.length + computer.length;
  const stringOffset = body + ((4 - (body % 4)) % 4);
  const unpadded = stringOffset + strings.length + 4;
  const size = unpadded + ((4 - (unpadded % 4)) % 4);
  const b = Buffer.alloc(size);
  b.writeUInt32LE(size, 0);
  b.writeUInt32LE(0x654c664c, 4); // 'LfLe'
  b.writeUInt32LE(event.timeGenerated, 12);
  b.writeUInt32LE(event.timeGenerated, 16);
  b.writeUInt32LE(event.id, 20);
  b.writeUInt16LE(event.type ?? 0x0001, 24);
  b.writeUInt16LE(event.strings.length, 26);
  b.writeUInt32LE(stringOffset, 36);
  source.copy(b, FIXED_SIZE);
  computer.copy(b, FIXED_SIZE + source.length);
  strings.copy(b, stringOffset);
  b.writeUInt32LE(size, size - 4);
  return b;
}
