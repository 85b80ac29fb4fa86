import { createRequire } from "node:module";
import type { Input, Options } from "csv-stringify/sync";

// csv-stringify is loaded by the first export, not by every command that might export.
const require = createRequire(import.meta.url);

/** csv-stringify's synchronous stringify. */
export function stringifyCsv(rows: Input, options: Options): string {
  return (require("csv-stringify/sync") as typeof import("csv-stringify/sync")).stringify(rows, options);
}
