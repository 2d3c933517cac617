/** The overlay colours, shared by the Mermaid and DOT renderings so both read the same. */
export const OVERLAY_COLOURS = {
  visited: { fill: '#d8f0dc', stroke: '#2e7d32' },
  current: { fill: '#fff1a8', stroke: '#b8860b' },
  failed: { fill: '#f9d0d0', stroke: '#c62828' },
} as const;

export const DIAGRAM_TITLE = 'kms-recover: recovery of an Exchange 5.5 KMS (KB Q198814)';

/** The line that says where a diagram comes from (no timestamp: the output must be reproducible). */
export function provenance(machineId: string, version: number, hash: string): string {
  return `Generated from the XState machine "${machineId}" (machine v${version}, definition ${hash}) by kms-recover diagram; regenerate with npm run diagrams, do not edit.`;
}
