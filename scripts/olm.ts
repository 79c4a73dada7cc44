// `make bundle` / `make catalog`: writes the OLM bundle and the file-based catalog rendered from deploy/.
//
//   node scripts/olm.ts bundle  [--image OPERATOR_IMAGE]
//   node scripts/olm.ts catalog [--image OPERATOR_IMAGE] [--bundle-image BUNDLE_IMAGE]
//   node scripts/olm.ts image operator|bundle|catalog      prints the default image name (for docker builds)
//
// The committed files use the defaults (defaultReleaseNames); test/unit/olm-packaging.test.ts fails when they
// are out of date.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDeploySources, REPO_DIR } from './deploy-sources.ts';
import { defaultReleaseNames, ICON_PATH, renderBundle, type ReleaseNames } from './olm-bundle.ts';
import { renderCatalog } from './olm-catalog.ts';

function writeFiles(files: Map<string, string>, ownedDirs: string[]): void {
  // A file the renderer no longer writes (a renamed manifest) must not linger in the bundle.
  for (const dir of ownedDirs) rmSync(join(REPO_DIR, dir), { recursive: true, force: true });
  for (const [path, text] of files) {
    mkdirSync(dirname(join(REPO_DIR, path)), { recursive: true });
    writeFileSync(join(REPO_DIR, path), text);
  }
  console.log(`wrote ${[...files.keys()].join(', ')}`);
}

/** Every file under `dir` (relative to the repository), for comparing a rendering with what is committed. */
export function filesUnder(dir: string): string[] {
  return readdirSync(join(REPO_DIR, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(REPO_DIR.length));
}

function main(argv: string[]): void {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { image: { type: 'string' }, 'bundle-image': { type: 'string' } } });
  const defaults = defaultReleaseNames();
  const names: ReleaseNames = { ...defaults, operatorImage: values.image || defaults.operatorImage, bundleImage: values['bundle-image'] || defaults.bundleImage };
  const icon = readFileSync(join(REPO_DIR, ICON_PATH), 'utf8');
  const [command, which] = positionals;
  if (command === 'bundle') return writeFiles(renderBundle(readDeploySources(), names, icon), ['bundle']);
  if (command === 'catalog') return writeFiles(renderCatalog(readDeploySources(), names, icon), ['catalog']);
  if (command === 'image' && (which === 'operator' || which === 'bundle' || which === 'catalog')) return void console.log(names[`${which}Image`]);
  console.error('usage: node scripts/olm.ts bundle|catalog [--image IMG] [--bundle-image IMG] | image operator|bundle|catalog');
  process.exit(2);
}

if (import.meta.main) main(process.argv.slice(2));
