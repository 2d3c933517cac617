/**
 * The report's styles: readable on screen, and printed on A4 or Letter without clipping (every
 * drawing scales to the page's width, long paths and digests wrap anywhere, rows never split).
 */
export const REPORT_CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #1c262b; background: #ffffff; }
header, main { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
.kicker { margin: 0; color: #546e7a; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
h1 { font-size: 22px; margin: 4px 0 10px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #cfd8dc; }
.standing { margin: 0 0 6px; padding: 10px 14px; border-radius: 4px; font-weight: 600; border-left: 6px solid; overflow-wrap: anywhere; }
.tone-ok { background: #e8f5e9; border-color: #2e7d32; }
.tone-warn { background: #fff8e1; border-color: #f9a825; }
.tone-bad { background: #ffebee; border-color: #c62828; }
.tone-info { background: #e3f2fd; border-color: #1565c0; }
.note { color: #546e7a; font-size: 12px; margin: 0; }
dl.facts { margin: 0; display: grid; grid-template-columns: minmax(140px, 220px) 1fr; border-top: 1px solid #eceff1; }
.fact { display: contents; }
.fact dt, .fact dd { margin: 0; padding: 6px 8px; border-bottom: 1px solid #eceff1; overflow-wrap: anywhere; min-width: 0; }
.fact dt { font-weight: 600; color: #37474f; }
.evidence { display: block; color: #546e7a; font-size: 12px; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #eceff1; overflow-wrap: anywhere; min-width: 0; }
th { background: #eceff1; font-size: 12px; }
#deleted td:last-child, .evidence { font-variant-numeric: tabular-nums; }
#deleted td:last-child { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; }
figure { margin: 8px 0; }
figure svg { display: block; width: 100%; height: auto; }
figure.diagram svg { max-width: 760px; margin: 0 auto; }
.legend { font-size: 12px; color: #37474f; margin-top: 6px; }
.key { display: inline-block; margin-right: 14px; white-space: nowrap; }
.key svg { display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: baseline; }
@page { size: auto; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  header, main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  tr, .fact, figure { break-inside: avoid; }
  figure.diagram svg { max-width: 150mm; }
  .standing { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
