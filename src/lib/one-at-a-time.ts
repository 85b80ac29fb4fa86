/**
 * Runs the calls given to it one after another, in call order, each starting once the one before
 * has settled (whether it failed or not). Links that cannot interleave use it: a PC/SC card
 * session (the binding would interleave concurrent transmits), the HID frames of one APDU, the
 * reads of one HID handle.
 */
export class OneAtATime {
  #tail: Promise<unknown> = Promise.resolve();

  /** `fn`'s result, once every call queued before it has settled. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every call queued so far has settled. */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
