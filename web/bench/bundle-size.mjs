#!/usr/bin/env node
// The web app's production bundle, sized: raw bytes and gzip (zlib level 9) of every file
// in web/dist/assets, grouped by when the browser downloads it. Reads what Vite built
// (run scripts/build-web.sh first) and prints Markdown tables; changes nothing.
//
//   node web/bench/bundle-size.mjs [--json]
//
// - First screen: index.html, its entry script, its modulepreload links and stylesheets,
//   plus every chunk those import statically (what the browser fetches before any page).
// - Each lazy chunk (a page, Charts, DealBoard): the chunk and the static imports it adds
//   on top of the first screen, i.e. what navigating there downloads next.
// - All JS, all CSS.
//
// Vite's chunks import each other as `from"./name-hash.js"` (static) and
// import(`./name-hash.js`) (lazy, any quote); the graph below is read from those.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const WEB = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(WEB, 'dist');
const json = process.argv.includes('--json');

let html;
try {
  html = readFileSync(join(DIST, 'index.html'), 'utf8');
} catch {
  console.error('error: web/dist/index.html is missing: build the web app first (bash scripts/build-web.sh)');
  process.exit(1);
}

const files = new Map(); // 'assets/x.js' -> { raw, gzip, text }
for (const name of readdirSync(join(DIST, 'assets'))) {
  const data = readFileSync(join(DIST, 'assets', name));
  files.set(`assets/${name}`, { raw: data.length, gzip: gzipSync(data, { level: 9 }).length, text: data.toString('utf8') });
}
const htmlSize = { raw: Buffer.byteLength(html), gzip: gzipSync(html, { level: 9 }).length };

const attr = (re) => [...html.matchAll(re)].map((m) => m[1].replace(/^\//, ''));
const entry = attr(/<script[^>]*type="module"[^>]*src="([^"]+)"/g);
const preloads = attr(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g);
const styles = attr(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g);

const staticImports = (name) =>
  [...(files.get(name)?.text ?? '').matchAll(/(?:from|import)\s*["'`]\.\/([^"'`]+\.js)["'`]/g)].map((m) => `assets/${m[1]}`);
const lazyImports = (name) =>
  [...(files.get(name)?.text ?? '').matchAll(/import\(\s*["'`]\.\/([^"'`]+\.js)["'`]\s*\)/g)].map((m) => `assets/${m[1]}`);

/** `roots` and everything they import statically. */
function closure(roots) {
  const seen = new Set();
  const todo = [...roots];
  while (todo.length) {
    const n = todo.pop();
    if (seen.has(n) || !files.has(n)) continue;
    seen.add(n);
    todo.push(...staticImports(n));
  }
  return seen;
}

const sum = (names) =>
  [...names].reduce((a, n) => ({ raw: a.raw + files.get(n).raw, gzip: a.gzip + files.get(n).gzip }), { raw: 0, gzip: 0 });
const kb = (n) => (n / 1024).toFixed(1);
const short = (n) => n.replace(/^assets\//, '').replace(/-[A-Za-z0-9_-]{8}\./, '.');

const first = closure([...entry, ...preloads]);
for (const s of styles) first.add(s);
const lazyChunks = [...new Set([...files.keys()].flatMap(lazyImports))].sort();
const lazy = lazyChunks.map((name) => {
  const adds = [...closure([name])].filter((n) => !first.has(n));
  return { name, own: files.get(name), adds, total: sum(adds) };
});
const allJs = [...files.keys()].filter((n) => n.endsWith('.js'));
const allCss = [...files.keys()].filter((n) => n.endsWith('.css'));

if (json) {
  const pick = (n) => ({ file: n, raw: files.get(n).raw, gzip: files.get(n).gzip });
  console.log(
    JSON.stringify(
      {
        index_html: htmlSize,
        first_screen: { files: [...first].map(pick), total: sum(first) },
        lazy: lazy.map((l) => ({ chunk: pick(l.name), adds: l.adds, total: l.total })),
        all_js: { count: allJs.length, ...sum(allJs) },
        all_css: { count: allCss.length, ...sum(allCss) },
      },
      null,
      2,
    ),
  );
  process.exit(0);
}

console.log('Sizes in KiB (1024 bytes); gzip = zlib level 9.\n');
console.log('First screen (index.html + entry + modulepreload + CSS, with their static imports):\n');
console.log('| file | role | raw KiB | gzip KiB |\n|---|---|---|---|');
console.log(`| index.html | document | ${kb(htmlSize.raw)} | ${kb(htmlSize.gzip)} |`);
for (const n of first) {
  const role = entry.includes(n) ? 'entry' : preloads.includes(n) ? 'modulepreload' : styles.includes(n) ? 'stylesheet' : 'static import';
  console.log(`| ${short(n)} | ${role} | ${kb(files.get(n).raw)} | ${kb(files.get(n).gzip)} |`);
}
const f = sum(first);
console.log(`| **total** | | **${kb(f.raw + htmlSize.raw)}** | **${kb(f.gzip + htmlSize.gzip)}** |`);

console.log('\nLazy chunks, largest first (a chunk plus the static imports it adds to the first screen):\n');
console.log('| chunk | raw KiB | gzip KiB | with what it adds: raw KiB | gzip KiB |\n|---|---|---|---|---|');
for (const l of [...lazy].sort((a, b) => b.total.gzip - a.total.gzip)) {
  const extra = l.adds.filter((n) => n !== l.name).map(short);
  const label = short(l.name) + (extra.length ? ` (+ ${extra.join(', ')})` : '');
  console.log(`| ${label} | ${kb(l.own.raw)} | ${kb(l.own.gzip)} | ${kb(l.total.raw)} | ${kb(l.total.gzip)} |`);
}

const js = sum(allJs);
const css = sum(allCss);
console.log(`\nAll JS: ${allJs.length} files, ${kb(js.raw)} KiB raw, ${kb(js.gzip)} KiB gzip (sum of per-file gzip).`);
console.log(`All CSS: ${allCss.length} file(s), ${kb(css.raw)} KiB raw, ${kb(css.gzip)} KiB gzip.`);
