/**
 * Bundles a TypeScript child-process script into one ESM file with Vite (already a dev dependency),
 * so crash tests can run the real store code in a separate Node process that they can SIGKILL.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { build } from "vite";

export async function bundleChild(entry: string): Promise<string> {
  // Inside the repository's node_modules so that the bundle's `import "better-sqlite3"` resolves.
  const cache = join(process.cwd(), "node_modules", ".cache", "otpbridge-test-children");
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, "child-"));
  await build({
    logLevel: "silent",
    configFile: false,
    build: {
      ssr: entry,
      outDir,
      emptyOutDir: false,
      minify: false,
      rollupOptions: { output: { format: "es", entryFileNames: "child.mjs" } },
    },
    ssr: { external: ["better-sqlite3"] },
  });
  return join(outDir, "child.mjs");
}
