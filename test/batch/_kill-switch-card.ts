/**
 * The crash tests' token: it SIGKILLs a process (a daemon, a station) when the step armed on it
 * reaches it, before or after the token acts on it, so that a kill lands at an exact point of a burn.
 */
import type { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import type { VirtualCard } from "../../src/transports/types.js";

/** A kill armed on a step: fired by the next card that sees it, before or after the card acts on it. */
export interface Arm {
  step: string;
  after: boolean;
}

/** A token that calls `fire` (which kills) when the armed step reaches it. */
export class KillSwitchCard implements VirtualCard {
  constructor(
    readonly token: SingleProfileToken,
    readonly armed: () => Arm | undefined,
    readonly fire: () => void,
  ) {}

  get atr(): Uint8Array {
    return this.token.atr;
  }

  transmit(apdu: Uint8Array): Uint8Array {
    const step = `${apdu[0]!.toString(16).padStart(2, "0")}:${apdu[1]!.toString(16).padStart(2, "0")}`;
    const arm = this.armed();
    if (arm?.step !== step) return this.token.transmit(apdu);
    if (!arm.after) this.fire();
    const answer = this.token.transmit(apdu);
    if (arm.after) this.fire();
    return answer;
  }

  powerOn(): void {
    this.token.powerOn();
  }

  powerOff(): void {
    this.token.powerOff();
  }
}
