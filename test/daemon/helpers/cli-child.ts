// The real CLI in a child process, run from source through run-ts.mjs (no build needed).
import { main } from "../../../src/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
