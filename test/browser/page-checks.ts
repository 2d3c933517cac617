/*
 * What the browser lane measures inside the page, with the layout Chromium computed: every text
 * within its box (an HTML text within its nearest block, an SVG text within its drawing, no two
 * texts of a drawing on each other by more than a quarter of a line, nothing wider than the
 * window), and every request the page tried (resource timing entries, and the policy's refusals:
 * a refused fetch is still a request the page tried). Added to a copy of the report (the report
 * has no script of its own), whose policy then allows this inline script and nothing more; the
 * result is a <pre> read back from Chromium's --dump-dom.
 */

export interface PageMeasure {
  overflow: string[];
  overlaps: string[];
  resources: string[];
  violations: string[];
  scrollWidth: number;
  width: number;
  texts: number;
}

const MEASURE = `
(() => {
  const violations = [];
  document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI));
  setTimeout(() => {
    const overflow = [];
    const overlaps = [];
    let texts = 0;
    const width = document.documentElement.clientWidth;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || !el || el.closest('script, #kr-measure, title')) continue;
      let r;
      let box;
      if (el instanceof SVGElement) {
        r = el.getBoundingClientRect();
        box = (el.ownerSVGElement || el).getBoundingClientRect();
      } else {
        const range = document.createRange();
        range.selectNodeContents(n);
        r = range.getBoundingClientRect();
        let b = el;
        while (b.parentElement && ['inline', 'contents'].includes(getComputedStyle(b).display)) b = b.parentElement;
        box = b.getBoundingClientRect();
      }
      if (r.width === 0 && r.height === 0) continue;
      texts += 1;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.right > width + 1) {
        overflow.push(n.textContent.trim().slice(0, 60) + ' [' + Math.round(r.left) + '-' + Math.round(r.right) + ' in ' + Math.round(box.left) + '-' + Math.round(box.right) + ']');
      }
    }
    for (const svg of document.querySelectorAll('svg')) {
      const boxes = [...svg.querySelectorAll('text')].map((t) => [t.textContent.trim(), t.getBoundingClientRect()]).filter(([s, r]) => s && r.width > 0);
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const [a, ra] = boxes[i];
        const [b, rb] = boxes[j];
        const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        // Lines of one label touch by their font's ascent and descent: only a real overlap counts.
        if (w > 1 && h > 0.25 * Math.min(ra.height, rb.height)) overlaps.push(a.slice(0, 40) + ' / ' + b.slice(0, 40));
      }
    }
    const out = document.createElement('pre');
    out.id = 'kr-measure';
    out.textContent = JSON.stringify({ overflow, overlaps, texts, violations, resources: performance.getEntriesByType('resource').map((e) => e.name), scrollWidth: document.documentElement.scrollWidth, width });
    document.body.append(out);
  }, 500);
})();
`;

/** The report with the measuring script, its policy otherwise unchanged (default-src 'none'). */
export function withMeasure(html: string): string {
  const policy = /content="(default-src 'none';[^"]*)"/.exec(html);
  if (!policy) throw new Error('the report has no content security policy');
  return html.replace(policy[0], `content="${policy[1]}; script-src 'unsafe-inline'"`).replace('</body>', `<script>${MEASURE}</script>\n</body>`);
}

/** The measurements back from the dumped DOM. */
export function measureOf(dom: string): PageMeasure {
  const m = /<pre id="kr-measure">([\s\S]*?)<\/pre>/.exec(dom);
  if (!m) throw new Error(`the page did not measure itself:\n${dom.slice(0, 400)}`);
  const text = m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return JSON.parse(text) as PageMeasure;
}

/** The report as it prints on this paper (the report leaves the size to the printer: `@page { size: auto }`). */
export function onPaper(html: string, paper: 'A4' | 'letter'): string {
  return html.replace('</style>', `@page { size: ${paper}; }</style>`);
}
