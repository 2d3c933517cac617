/**
 * Renders DOT to SVG in this process with Graphviz compiled to WebAssembly
 * (@hpcc-js/wasm-graphviz: the wasm is embedded in the npm package, so nothing is downloaded
 * and no `dot` binary is needed). Imported lazily: only `diagram --format svg` pays for it.
 */
export async function dotToSvg(dot: string): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  const svg = graphviz.layout(dot, 'svg', 'dot');
  return svg.endsWith('\n') ? svg : `${svg}\n`;
}
