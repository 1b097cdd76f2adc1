// The browser builds, made after `tsc -b` by `npm run build` (and so by `npm ci`):
// - packages/client/dist/bundle/spool-client.js: @spool/client/browser as one ES module that a
//   page can import; nothing from Node.js may end up in it.
// - packages/upload-page/dist/assets/: the upload page `spool serve` shows at /. Its script
//   imports ./spool-client.js, a copy of the bundle above, served next to it.
// esbuild-wasm: the bundler as WebAssembly, with no install script and no native binary.
import { build } from 'esbuild-wasm';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const client = join(root, 'packages/client');
const page = join(root, 'packages/upload-page');
const bundle = join(client, 'dist/bundle/spool-client.js');
const assets = join(page, 'dist/assets');

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
};

const clientBuild = await build({
  ...common,
  entryPoints: [join(client, 'dist/browser/index.js')],
  outfile: bundle,
});
// platform: 'browser' already refuses node: imports; this also catches the Node-only entries' files.
const nodeOnly = Object.keys(clientBuild.metafile.inputs).filter((input) =>
  /(^|\/)(client\/dist\/node|core\/dist\/native)\//.test(input),
);
if (nodeOnly.length > 0) {
  throw new Error(`The browser bundle must not contain Node-only modules: ${nodeOnly.join(', ')}`);
}

await rm(assets, { recursive: true, force: true });
await mkdir(assets, { recursive: true });
await build({
  ...common,
  entryPoints: [join(page, 'dist/page.js')],
  outfile: join(assets, 'page.js'),
  plugins: [
    {
      name: 'client-bundle',
      setup(b) {
        // The page uses the client bundle as it is published, not a second copy of it.
        b.onResolve({ filter: /^@spool\/client\/browser$/ }, () => ({
          path: './spool-client.js',
          external: true,
        }));
      },
    },
  ],
});
await copyFile(bundle, join(assets, 'spool-client.js'));
for (const name of await readdir(join(page, 'static'))) {
  await copyFile(join(page, 'static', name), join(assets, name));
}

const code = await readFile(bundle);
const gzipped = gzipSync(code, { level: 9 }).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const size = { bytes: code.length, gzipped };
await writeFile(join(client, 'dist/bundle/size.json'), `${JSON.stringify(size)}\n`);
process.stdout.write(
  `${relative(root, bundle)}: ${kib(code.length)}, ${kib(gzipped)} gzipped; upload page in ${relative(root, assets)}\n`,
);
