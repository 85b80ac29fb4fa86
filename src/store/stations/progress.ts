/**
 * Live progress of a shared batch across stations. Every claim, step and heartbeat sends a NOTIFY
 * (delivered when its transaction commits); this feed LISTENs on a dedicated connection (a pooled one
 * would be handed to other queries and lose the LISTEN) and re-reads the status when one arrives.
 * When that connection fails, the feed polls instead until it can LISTEN again.
 */
import pg from "pg";
import { poolConfig } from "./connection.js";
import { PROGRESS_CHANNEL, type StationStore } from "./store.js";
import type { SharedBatchStatus } from "./types.js";

export interface ProgressOptions {
  /** Poll period while LISTEN is not available, and between reconnection attempts; default 2 s. */
  pollMs?: number;
  /** Notifications arriving within this window are folded into one status read; default 250 ms. */
  debounceMs?: number;
}

export class ProgressFeed {
  readonly #store: StationStore;
  readonly #batchId: number;
  readonly #listener: (status: SharedBatchStatus) => void;
  readonly #pollMs: number;
  readonly #debounceMs: number;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #last = "";
  #closed = false;
  #mode: "listen" | "poll" = "poll";

  private constructor(store: StationStore, batchId: number, listener: (status: SharedBatchStatus) => void, options: ProgressOptions) {
    this.#store = store;
    this.#batchId = batchId;
    this.#listener = listener;
    this.#pollMs = options.pollMs ?? 2_000;
    this.#debounceMs = options.debounceMs ?? 250;
  }

  /** Starts watching; the listener gets the status now and on every change. Call close() when done. */
  static async start(
    store: StationStore,
    batchId: number,
    listener: (status: SharedBatchStatus) => void,
    options: ProgressOptions = {},
  ): Promise<ProgressFeed> {
    const feed = new ProgressFeed(store, batchId, listener, options);
    await feed.#listen();
    await feed.#refresh();
    return feed;
  }

  /** "listen" while the NOTIFY connection is up, "poll" while it is not. */
  get mode(): "listen" | "poll" {
    return this.#mode;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#debounce);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client(poolConfig(this.#store.options, `otpbridge progress ${this.#store.station}`));
    // Without a listener, a dropped LISTEN connection's error would crash the process.
    client.on("error", () => this.#fallBack(client));
    client.on("end", () => this.#fallBack(client));
    client.on("notification", (message) => {
      if (message.channel !== PROGRESS_CHANNEL) return;
      const batch = (JSON.parse(message.payload ?? "{}") as { b?: number | null }).b;
      if (batch == null || batch === this.#batchId) this.#soon();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${PROGRESS_CHANNEL}`);
    } catch {
      await client.end().catch(() => undefined);
      this.#schedulePoll();
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#mode = "listen";
    clearTimeout(this.#timer);
  }

  #fallBack(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    if (this.#closed) return;
    this.#mode = "poll";
    this.#schedulePoll();
  }

  /**
   * While polling: try to LISTEN again, then read the status. In that order: a change committed
   * between a read and the LISTEN would otherwise go unseen until the next one.
   */
  #schedulePoll(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.#listen().then(() => this.#refresh());
    }, this.#pollMs);
  }

  #soon(): void {
    if (this.#debounce !== undefined || this.#closed) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.#refresh();
    }, this.#debounceMs);
  }

  async #refresh(): Promise<void> {
    if (this.#closed) return;
    let status: SharedBatchStatus;
    try {
      status = await this.#store.status(this.#batchId);
    } catch {
      // The store reports its own unavailability; the next poll or notification tries again.
      return;
    }
    const key = JSON.stringify(status);
    if (key === this.#last || this.#closed) return;
    this.#last = key;
    this.#listener(status);
  }
}
