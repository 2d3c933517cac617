/**
 * Keys that could carry the alpha string. Nothing should ever put it in an event detail; this
 * is the second fence, applied to every detail before it is written.
 */
const SECRET_KEY = /alpha|passw|pwd|secret|startparam/i;

export function redactDetail(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactDetail);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) ? '[redacted]' : redactDetail(inner);
    }
    return out;
  }
  return value;
}
