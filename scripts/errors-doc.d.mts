/** The texts the pages are rendered from (see scripts/errors-doc.mjs). */
export interface ErrorSources {
  reasons: string;
  exitCodes: string;
  rpcCodes: string;
  fixes: string;
}
export interface ReasonRow {
  reason: string;
  /** From src/cli/exit-codes.ts (undefined when missing). */
  exitCode: number | undefined;
  /** From src/daemon/rpc-codes.ts (undefined when missing). */
  rpcCode: number | undefined;
  /** What the reason means: its doc comment in src/lib/errors.ts. */
  meaning: string;
  /** What to do: its section of docs/error-fixes.md (empty when missing). */
  fix: string;
}
export function readSources(root?: URL): ErrorSources;
export function parseReasons(sources: ErrorSources): ReasonRow[];
export function fixSections(sources: ErrorSources): string[];
export function renderErrorsDoc(sources: ErrorSources): string;
export function renderTroubleshootingDoc(sources: ErrorSources): string;
