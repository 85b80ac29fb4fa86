export interface ReasonRow {
  reason: string;
  exitCode: number;
  rpcCode: number;
  meaning: string;
}
export function parseReasons(source: string): ReasonRow[];
export function renderErrorsDoc(source: string): string;
