import type { RunReport } from '../recovery/report-facts.js';
import type { Block, ReportDocument } from './document.js';
import { REPORT_CSS } from './css.js';
import { BAR_STYLE, barFill, barPatterns, timelineSvg } from './timeline-svg.js';
import { escapeXml } from '../present/xml-escape.js';

/*
 * The report as one self-contained HTML file: styles and both drawings inline, no script, and a
 * content security policy that forbids every fetch, so it opens the same from a USB stick on a
 * machine without network and can never call out.
 */

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export function reportHtml(doc: ReportDocument, report: RunReport, overviewSvg: string): string {
  const body = doc.sections.map((s) => `<section id="${s.id}">\n<h2>${escapeXml(s.title)}</h2>\n${s.blocks.map((b) => block(b, report, overviewSvg)).join('\n')}\n</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${escapeXml(`${report.tool.name} ${report.tool.version}`)}">
<title>${escapeXml(doc.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<p class="kicker">Incident report: Exchange Key Management Server recovery (Microsoft KB Q198814)</p>
<h1>${escapeXml(doc.title)}</h1>
<p class="standing tone-${doc.standing.tone}">${escapeXml(doc.standing.words)}</p>
<p class="note">${escapeXml(doc.timeNote)}</p>
</header>
<main>
${body}
</main>
</body>
</html>
`;
}

function block(b: Block, report: RunReport, overviewSvg: string): string {
  switch (b.kind) {
    case 'facts':
      return `<dl class="facts">\n${b.rows.map((r) => `<div class="fact"><dt>${escapeXml(r.label)}</dt><dd>${escapeXml(r.value)}${r.evidence ? `<span class="evidence">${escapeXml(r.evidence)}</span>` : ''}</dd></div>`).join('\n')}\n</dl>`;
    case 'table':
      return `<table>${b.widths ? `<colgroup>${b.widths.map((w) => `<col style="width:${w}%">`).join('')}</colgroup>` : ''}\n<thead><tr>${b.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${b.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n')}\n</tbody>\n</table>`;
    case 'text':
      return `<p>${escapeXml(b.text)}</p>`;
    case 'diagram':
      return `<figure class="diagram">${inlineSvg(overviewSvg)}</figure>`;
    case 'timeline':
      return `<figure class="chart">${timelineSvg(report.timeline)}<figcaption class="legend">${legend(report)}</figcaption></figure>`;
  }
}

/** The kinds of bars this run's chart has, each drawn as in the chart, and its marks. */
function legend(report: RunReport): string {
  const kinds = [...new Set(report.timeline.bars.map((b) => b.kind))];
  const items = kinds.map((k) => `<span class="key"><svg viewBox="0 0 14 10" width="14" height="10" aria-hidden="true"><defs>${barPatterns(`key-${k}`)}</defs><rect width="14" height="10" fill="${barFill(k, `key-${k}`)}" stroke="#90a4ae"/></svg>${escapeXml(BAR_STYLE[k].words)}</span>`);
  if (report.timeline.marks.some((m) => m.row === null)) items.push('<span class="key"><svg viewBox="0 0 14 10" width="14" height="10" aria-hidden="true"><line x1="7" y1="0" x2="7" y2="10" stroke="#6a1b9a" stroke-dasharray="3 2"/></svg>a takeover, going back or abandoning (all steps)</span>');
  if (report.timeline.marks.length) items.push('<span class="key"><svg viewBox="0 0 14 14" width="12" height="12" aria-hidden="true"><path d="M7 1 l6 6 l-6 6 l-6 -6 z" fill="#6a1b9a"/></svg>an event (its time and words on hover; all of them in the event log)</span>');
  return items.join(' ');
}

/** Graphviz's SVG document as an element of the page: no XML prolog or doctype, and it scales with the page. */
function inlineSvg(svg: string): string {
  const start = svg.indexOf('<svg');
  return svg.slice(start).replace(/<svg width="[^"]*" height="[^"]*"/, '<svg class="overview"');
}
