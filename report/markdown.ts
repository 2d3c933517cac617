import type { RunReport } from '../recovery/report-facts.js';
import type { Block, ReportDocument } from './document.js';
import { durationWords, localTime } from '../present/time-words.js';

/**
 * The report as Markdown, for pasting into a ticket: the same sections and words as the HTML;
 * the overview is the diagram's text form, the time line a table of its bars.
 */
export function reportMarkdown(doc: ReportDocument, report: RunReport, overviewText: string): string {
  const out: string[] = [`# ${doc.title}`, '', `**${doc.standing.words}**`, '', `_${doc.timeNote}_`, ''];
  for (const s of doc.sections) {
    out.push(`## ${s.title}`, '');
    for (const b of s.blocks) out.push(...block(b, report, overviewText), '');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function block(b: Block, report: RunReport, overviewText: string): string[] {
  switch (b.kind) {
    case 'facts':
      return b.rows.map((r) => `- **${cell(r.label)}:** ${cell(r.value)}${r.evidence ? ` _(${cell(r.evidence)})_` : ''}`);
    case 'table':
      return table(b.head, b.rows);
    case 'text':
      return [cell(b.text)];
    case 'diagram':
      return ['```text', overviewText.trimEnd(), '```'];
    case 'timeline': {
      const rows = report.timeline.rows;
      const bars = [...report.timeline.bars].sort((a, c) => Date.parse(a.from) - Date.parse(c.from));
      return table(['from', 'to', 'KB step', 'what'], bars.map((x) => [
        localTime(x.from), `${localTime(x.to)} (${durationWords(Date.parse(x.to) - Date.parse(x.from))})`,
        rows[x.row]?.kbLabel ?? '', x.label,
      ]));
    }
  }
}

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

/** A cell's text: one line, pipes escaped (a path's backslashes stay as written). */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}
