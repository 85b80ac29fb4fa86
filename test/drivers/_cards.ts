/**
 * Test wrappers around the emulators: a card that records the INS of every command it gets, and
 * one that lets a test rewrite answers (to inject a status word at one step).
 */
import type { VirtualCard } from "../../src/transports/types.js";

/** `cla:ins` of each command, e.g. "80:41" for GET INFO, "84:c5" for WRITE SEED. */
export type Step = string;

export const GET_INFO = "80:41";
export const GET_CHALLENGE = "80:4b";
export const AUTH_FINISH = "80:ce";
export const WRITE_CONFIG = "84:d4";
export const WRITE_SEED = "84:c5";

/** Wraps a card: records the steps, and lets `intercept` answer instead of the card. */
export class RecordingCard implements VirtualCard {
  readonly steps: Step[] = [];
  /** Return a response to answer instead of the card, or undefined to let the card answer. */
  intercept: (step: Step, apdu: Uint8Array, card: VirtualCard) => Uint8Array | undefined = () => undefined;

  constructor(readonly card: VirtualCard) {}

  /**
   * Lets `answer` take the first command of `step` (it may also pull the card, or throw), then lets
   * the card answer everything again.
   */
  onceAt(step: Step, answer: (apdu: Uint8Array, card: VirtualCard) => Uint8Array): void {
    this.intercept = (at, apdu, card) => {
      if (at !== step) return undefined;
      this.intercept = () => undefined;
      return answer(apdu, card);
    };
  }

  get atr(): Uint8Array {
    return this.card.atr;
  }

  transmit(apdu: Uint8Array): Uint8Array {
    const step = `${apdu[0]!.toString(16).padStart(2, "0")}:${apdu[1]!.toString(16).padStart(2, "0")}`;
    this.steps.push(step);
    return this.intercept(step, apdu, this.card) ?? this.card.transmit(apdu);
  }

  powerOn(): void {
    this.card.powerOn?.();
  }

  powerOff(): void {
    this.card.powerOff?.();
  }

  reset(): void {
    this.card.reset?.();
  }
}

export const sw = (value: number): Uint8Array => Uint8Array.of(value >>> 8, value & 0xff);
