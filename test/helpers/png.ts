import { inflateSync } from 'node:zlib';

/*
 * A PNG's pixels, for the browser lane's "the screenshot is not blank": 8-bit RGB or RGBA,
 * non-interlaced (what Chromium writes). Nothing else is needed, so nothing else is read.
 */

export interface Pixels { width: number; height: number; channels: number; data: Buffer }

export function decodePng(file: Buffer): Pixels {
  if (file.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < file.length;) {
    const length = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const body = file.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      const color = body[9];
      if (depth !== 8 || (color !== 2 && color !== 6) || body[12] !== 0) throw new Error(`PNG kind not read here: depth ${depth}, colour type ${color}, interlace ${body[12]}`);
      channels = color === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      idat.push(body);
    }
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const data = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? data[y * stride + x - channels]! : 0;
      const b = y > 0 ? data[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels]! : 0;
      const v = line[x]!;
      let out: number;
      switch (filter) {
        case 0: out = v; break;
        case 1: out = v + a; break;
        case 2: out = v + b; break;
        case 3: out = v + ((a + b) >> 1); break;
        case 4: { const p = a + b - c; const pa = Math.abs(p - a); const pb = Math.abs(p - b); const pc = Math.abs(p - c); out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c); break; }
        default: throw new Error(`PNG filter ${filter} unknown`);
      }
      data[y * stride + x] = out & 0xff;
    }
  }
  return { width, height, channels, data };
}

/** How much of the picture is not its most common colour (the page's background), and how many colours it has. */
export function inkOf(p: Pixels): { inked: number; colours: number } {
  const counts = new Map<number, number>();
  for (let i = 0; i < p.data.length; i += p.channels) {
    const key = (p.data[i]! << 16) | (p.data[i + 1]! << 8) | p.data[i + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = p.width * p.height;
  const background = Math.max(...counts.values());
  return { inked: (total - background) / total, colours: counts.size };
}
