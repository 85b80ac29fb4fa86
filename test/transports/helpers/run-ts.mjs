// Runs a TypeScript module in a plain Node child process (Node 20 cannot strip types itself),
// through Vite's module runner, the same transform vitest applies: node run-ts.mjs <file.ts> [args].
import { runnerImport } from "vite";

const [file] = process.argv.slice(2);
await runnerImport(file, { configFile: false, logLevel: "error" });
