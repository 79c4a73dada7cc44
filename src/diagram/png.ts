// An SVG drawing as a PNG, with resvg (a Rust SVG renderer, prebuilt for each platform): for `hestia diagram -o png`.
// Loaded only when a PNG is asked for, so that no other command pays for the native module.

// Graphviz measured the text in Helvetica, which few machines have; DejaVu Sans Condensed is about as wide and common
// on Linux. Where it is not installed, resvg sets the text in another system face rather than leaving it out.
const SANS_SERIF = 'DejaVu Sans Condensed';

export async function svgToPng(svg: string, zoom = 1.5): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const image = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: zoom },
    font: { loadSystemFonts: true, defaultFontFamily: SANS_SERIF, sansSerifFamily: SANS_SERIF },
  }).render();
  return image.asPng();
}
