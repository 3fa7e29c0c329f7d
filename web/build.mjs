// Copies the page and its pinned npm dependencies into the output directory (default: dist/).
// Maven calls this with ../target/classes/webroot so the jar serves the built page.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, 'dist'));
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'vendor'), { recursive: true });
cpSync(join(here, 'index.html'), join(out, 'index.html'));
cpSync(join(here, 'src'), join(out, 'src'), { recursive: true });
cpSync(join(here, 'api'), join(out, 'api'), { recursive: true });
cpSync(join(here, 'node_modules/uplot/dist/uPlot.iife.min.js'), join(out, 'vendor/uPlot.iife.min.js'));
cpSync(join(here, 'node_modules/uplot/dist/uPlot.min.css'), join(out, 'vendor/uPlot.min.css'));
console.log(`web: built into ${out}`);
