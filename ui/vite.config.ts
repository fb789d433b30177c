import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

const pdfjsRoot = fileURLToPath(new URL('./node_modules/pdfjs-dist/', import.meta.url));

/**
 * pdf.js loads some data files at run time: character maps (needed to extract the text of many
 * Chinese PDFs, whose fonts are CID-keyed), the 14 standard fonts, colour profiles and WebAssembly
 * image decoders. Nothing may come from a CDN (offline app, strict CSP), so they are served from
 * `pdfjs/` next to index.html: emitted into the build, and served from node_modules in dev.
 * Left out: the scripting engine (quickjs; PDF JavaScript is never run) and the JavaScript
 * fallbacks of the WebAssembly decoders (the CSP allows WebAssembly, so they would never load).
 */
const PDFJS_DIRS: Record<string, (name: string) => boolean> = {
  cmaps: () => true,
  standard_fonts: () => true,
  iccs: () => true,
  wasm: (name) => !name.startsWith('quickjs') && !name.includes('QUICKJS') && !name.endsWith('_nowasm_fallback.js'),
};

const MIME: Record<string, string> = {
  '.bcmap': 'application/octet-stream',
  '.pfb': 'application/octet-stream',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.icc': 'application/vnd.iccprofile',
  '.js': 'text/javascript',
};

function pdfjsAssets(): Plugin {
  return {
    name: 'doctalk-pdfjs-assets',
    configureServer(server) {
      server.middlewares.use('/pdfjs/', (req, res, next) => {
        const [dir, name] = (req.url ?? '').split('?')[0]!.replace(/^\/+/, '').split('/');
        const keep = dir ? PDFJS_DIRS[dir] : undefined;
        if (!dir || !name || !keep || !keep(name) || name.includes('..')) return next();
        try {
          const body = readFileSync(join(pdfjsRoot, dir, name));
          res.setHeader('Content-Type', MIME[extname(name)] ?? 'application/octet-stream');
          res.end(body);
        } catch {
          next();
        }
      });
    },
    generateBundle() {
      for (const [dir, keep] of Object.entries(PDFJS_DIRS)) {
        for (const name of readdirSync(join(pdfjsRoot, dir))) {
          const file = join(pdfjsRoot, dir, name);
          if (!keep(name) || !statSync(file).isFile()) continue;
          this.emitFile({ type: 'asset', fileName: `pdfjs/${dir}/${name}`, source: readFileSync(file) });
        }
      }
    },
  };
}

export default defineConfig({
  // Relative asset URLs: the same dist works from the Rust server, from Tauri, or from any folder.
  base: './',
  plugins: [pdfjsAssets()],
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // pdf.js's worker is one large file by nature; it is loaded only when a PDF is opened.
    chunkSizeWarningLimit: 2500,
  },
  server: {
    // `npm run dev` against a running `doctalk serve` (default port 8765).
    proxy: { '/api': { target: 'http://127.0.0.1:8765', changeOrigin: false } },
  },
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
