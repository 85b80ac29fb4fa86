// Runs a TypeScript module in a plain Node child process (Node 20 cannot strip types itself),
// through Vite's module runner, the same transform vitest applies:
//   node run-ts.mjs <file.ts> [args...]   (the module sees its own args from process.argv[2])
import { runnerImport } from "vite";

const [file] = process.argv.splice(2, 1);
await runnerImport(file, { configFile: false, logLevel: "error" });
