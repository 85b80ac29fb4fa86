/**
 * The Molto2 operations that need a person at the token (docs/PROTOCOL.md §3.11, §3.12):
 * `molto2.changeKey` and `molto2.factoryReset`. The token answers 9060 and waits for its ▲ button,
 * and says nothing when it is pressed, so the daemon tells the caller (`molto2.button` event) and
 * waits until the caller says it was pressed (`molto2.buttonPressed`, the console's "I pressed ▲"),
 * or gives up after `buttonWait` seconds (BUTTON_TIMEOUT). No command goes to the token meanwhile.
 * Then the driver proves the change on the token (KEY_CHANGE_NOT_APPLIED, FACTORY_RESET_NOT_APPLIED
 * when it did not happen). The token keeps an unconfirmed request across later commands and
 * power-offs (§3.16), so a refusal never says that nothing can change any more.
 */
import type { Molto2ButtonPrompt } from "../../drivers/molto2.js";
import { otpbError } from "../../lib/errors.js";
import type { ClientContext, MethodTable } from "../rpc.js";
import { int, objectParams, text } from "./_params.js";
import type { DaemonServices } from "./_services.js";
import { customerKey, withMolto2 } from "./molto2.js";

/** Waiting presses, by client and session: only the caller of the operation can confirm it. */
const waiting = new Map<string, () => void>();

/** The `onButton` of a Molto2 session: tells the client, then waits for its confirmation. */
function buttonFrom(client: ClientContext, session: string, waitSeconds: number) {
  return (prompt: Molto2ButtonPrompt): Promise<void> => {
    const key = `${client.id} ${session}`;
    client.notify("molto2.button", { session, action: prompt.action, message: prompt.message, waitSeconds });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(key);
        reject(
          otpbError(
            "BUTTON_TIMEOUT",
            `${prompt.message}: not confirmed within ${waitSeconds} s; nothing was changed yet, but the token may still hold the request: a later ▲ press on it would still apply it`,
          ),
        );
      }, waitSeconds * 1000);
      waiting.set(key, () => {
        clearTimeout(timer);
        waiting.delete(key);
        resolve();
      });
    });
  };
}

/** @returns `molto2.changeKey`, `molto2.factoryReset` and `molto2.buttonPressed`. */
export function molto2ButtonMethods(s: DaemonServices): MethodTable {
  const waitOf = (params: Record<string, unknown>): number => int(params, "buttonWait", 5, 600, 120);
  return {
    "molto2.changeKey": {
      capability: "burn",
      handler: (raw, client) => {
        const params = objectParams(raw);
        const session = text(params, "session", 64);
        const next = customerKey(params, "newCustomerKey");
        if (next === undefined) throw otpbError("INVALID_INPUT", "newCustomerKey is required (hex)", { detail: { param: "newCustomerKey" } });
        return withMolto2(s, raw, client, async (m) => {
          await m.changeCustomerKey(next, { onButton: buttonFrom(client, session, waitOf(params)) });
          s.log.info("molto2 customer key changed", { client: client.id });
          return { changed: true };
        }).finally(() => next.fill(0));
      },
    },
    "molto2.factoryReset": {
      capability: "burn",
      handler: (raw, client) => {
        const params = objectParams(raw);
        const session = text(params, "session", 64);
        return withMolto2(s, raw, client, async (m) => {
          await m.factoryReset({ onButton: buttonFrom(client, session, waitOf(params)) });
          s.log.info("molto2 factory reset", { client: client.id });
          return { reset: true };
        });
      },
    },
    "molto2.buttonPressed": {
      capability: "burn",
      handler: (raw, client) => {
        const session = text(objectParams(raw), "session", 64);
        const confirm = waiting.get(`${client.id} ${session}`);
        if (confirm === undefined) throw otpbError("NOT_ACQUIRED", "no ▲ press is awaited on this session");
        s.onButtonConfirmed?.();
        confirm();
        return { confirmed: true };
      },
    },
  };
}
