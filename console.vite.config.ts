// Builds the operator console (src/console) into dist/console, which the daemon serves: one
// module script and one stylesheet, no inline script (the page's CSP is default-src 'self').
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import { parseReasons, readSources } from "./scripts/errors-doc.mjs";

const FIXES_MD = fileURLToPath(new URL("docs/error-fixes.md", import.meta.url));

/**
 * `virtual:reason-fixes`: each error reason's one-line "Fix:" from docs/error-fixes.md, the same
 * text docs/TROUBLESHOOTING.md is rendered from, so the page never keeps its own copy.
 */
function reasonFixes(): Plugin {
  const id = "virtual:reason-fixes";
  return {
    name: "otpbridge-reason-fixes",
    resolveId: (source) => (source === id ? `\0${id}` : undefined),
    load(loaded) {
      if (loaded !== `\0${id}`) return undefined;
      this.addWatchFile(FIXES_MD);
      const reasons = parseReasons(readSources(new URL("./", import.meta.url))) as Array<{ reason: string; fix: string }>;
      return `export default ${JSON.stringify(Object.fromEntries(reasons.map((r) => [r.reason, r.fix])))};`;
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL("src/console", import.meta.url)),
  base: "/",
  logLevel: "warn",
  plugins: [reasonFixes()],
  build: {
    outDir: fileURLToPath(new URL("dist/console", import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: "es2022",
    sourcemap: false,
  },
});
