import { readFileSync } from "node:fs";

/** What a command may do with the outside world; tests pass their own. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  readStdin(): string;
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
  readStdin: () => readFileSync(0, "utf8"),
};
