export interface ReasonRow {
  reason: string;
  exitCode: number;
  rpcCode: number;
  /** What the reason means: its doc comment before "Fix:". */
  meaning: string;
  /** What to do: its doc comment after "Fix:" (empty when missing). */
  fix: string;
}
export function parseReasons(source: string): ReasonRow[];
export function renderErrorsDoc(source: string): string;
export function renderTroubleshootingDoc(source: string): string;
