import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/fixtures/data-home.ts"],
    // Native addons (pcsclite, better-sqlite3) abort under worker threads: keep the forks pool.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
