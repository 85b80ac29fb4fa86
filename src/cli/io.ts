import { readFileSync } from "node:fs";

/** What a command may do with the outside world; tests pass their own. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  readStdin(): string;
  /** True when a person can answer a question (stdin and stderr are terminals); absent: false. */
  isInteractive?(): boolean;
  /** Asks a question on the terminal and resolves with the answer line. */
  ask?(question: string): Promise<string>;
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  readStdin: () => readFileSync(0, "utf8"),
  isInteractive: () => process.stdin.isTTY === true && process.stderr.isTTY === true,
  ask: async (question) => {
    // The question goes to stderr so that stdout carries only results. readline is loaded only
    // by the commands that ask.
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};
