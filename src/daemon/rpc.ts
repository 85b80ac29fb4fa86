/**
 * JSON-RPC 2.0 framing over one WebSocket message, with the `json-rpc-2.0` package doing the
 * envelope (parse errors, invalid requests, unknown methods, batches). This file adds what the
 * daemon needs around it: `hello` first, pairing and capability checks per method, a bound on
 * batch length, and the one conversion of any thrown value into a JSON-RPC error object
 * ({@link toRpcError}, as ws's single error factory, Receiver#createError).
 */
import {
  JSONRPCErrorException,
  JSONRPCServer,
  createJSONRPCErrorResponse,
  type JSONRPCErrorResponse,
  type JSONRPCID,
  type JSONRPCResponse,
} from "json-rpc-2.0";
import { detailOf, otpbError, reasonOf } from "../lib/errors.js";
import { RPC_CODES } from "./rpc-codes.js";
import type { Logger } from "../lib/log.js";
import type { Capability } from "./auth.js";
import type { NativeChallenge } from "./native-proof.js";

/** The API version this daemon speaks; a breaking change bumps it (docs/API.md). */
export const API_VERSION = 1;
/** Requests in one JSON-RPC batch at most. */
export const MAX_BATCH = 16;

/** One connected client, as the handlers see it. */
export interface ClientContext {
  readonly id: string;
  readonly kind: "native" | "browser" | "console";
  /** The browser page's origin, or the console's (absent for native clients). */
  readonly origin?: string;
  /** Granted now (a browser's change when it is approved or revoked). */
  capabilities(): ReadonlySet<Capability>;
  /** False for a page without a standing pairing, and for a TCP native client that has not proved the token. */
  paired(): boolean;
  helloDone: boolean;
  /**
   * Browser: the approval this socket holds, given at approval or proven in `hello` with the pairing
   * secret. The Origin header alone never pairs: any local process can write it.
   */
  approvalId?: string;
  /** Native over TCP without the plain bearer header: the token proof it has yet to give (docs/API.md). */
  readonly challenge?: NativeChallenge;
  /** Sends a notification (event) to this client; `params` may be JSON text already ({@link RawJson}). */
  notify(method: string, params: unknown): void;
}

/**
 * A result that is JSON text already (devices.list: the same list goes to every client until it
 * changes, so it is serialised once, not once per call).
 */
export class RawJson {
  constructor(readonly json: string) {}
}

function serialize(response: JSONRPCResponse): string {
  if (response.error === undefined && response.result instanceof RawJson) {
    return `{"jsonrpc":"2.0","id":${JSON.stringify(response.id)},"result":${response.result.json}}`;
  }
  return JSON.stringify(withReason(response));
}

/** One method: the capability it needs (null: none, allowed before pairing) and its handler. */
export interface MethodSpec {
  capability: Capability | null;
  /** For the daemon's own user only (pairing approvals): browsers are refused whatever they hold. */
  nativeOnly?: boolean;
  handler: (params: unknown, client: ClientContext) => unknown;
}

export type MethodTable = Record<string, MethodSpec>;

/** The JSON-RPC `error` object of any thrown value: stable `data.reason`, never a stack or a secret. */
export function toRpcError(error: unknown): { code: number; message: string; data: Record<string, unknown> } {
  const reason = reasonOf(error);
  if (reason === "INTERNAL") return { code: RPC_CODES.INTERNAL, message: "internal error", data: { reason } };
  const message = error instanceof Error ? error.message : String(error);
  const detail = detailOf(error);
  return { code: RPC_CODES[reason], message, data: { ...detail, reason } };
}

function rpcException(error: unknown): JSONRPCErrorException {
  const e = toRpcError(error);
  return new JSONRPCErrorException(e.message, e.code, e.data);
}

/** Plain-object params (by-name only: positional params are refused, they are not documented). */
export function objectParams(params: unknown): Record<string, unknown> {
  if (params === undefined) return {};
  if (params === null || typeof params !== "object" || Array.isArray(params)) {
    throw otpbError("INVALID_INPUT", "params must be an object");
  }
  return params as Record<string, unknown>;
}

const ENVELOPE_REASONS: Record<number, string> = { [-32700]: "PARSE_ERROR", [-32600]: "INVALID_REQUEST", [-32601]: "METHOD_NOT_FOUND" };

function validId(id: unknown): boolean {
  return id === undefined || id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

/** The library's own envelope errors carry no `data`: give them their reason, as every error has one. */
function withReason(response: JSONRPCResponse): JSONRPCResponse {
  const error = response.error;
  if (error === undefined || error.data?.reason !== undefined) return response;
  return { ...response, error: { ...error, data: { ...error.data, reason: ENVELOPE_REASONS[error.code] ?? "INVALID_REQUEST" } } };
}

/**
 * The dispatcher shared by every connection (it holds no per-client state: the client travels as
 * the server parameter).
 */
export class RpcDispatcher {
  // The library's default error listener writes every failed call to console.error as free text;
  // the daemon logs through its own structured, redaction-guarded logger instead.
  readonly #server = new JSONRPCServer<ClientContext>({ errorListener: () => {} });
  readonly #log: Logger;

  constructor(methods: MethodTable, log: Logger) {
    this.#log = log;
    this.#server.mapErrorToJSONRPCErrorResponse = (id: JSONRPCID, error: unknown): JSONRPCErrorResponse => {
      const e = error instanceof JSONRPCErrorException ? error.toObject() : toRpcError(error);
      if (e.data?.reason === "INTERNAL") this.#log.error("rpc: internal error", { error });
      return createJSONRPCErrorResponse(id, e.code, e.message, e.data);
    };
    for (const [name, spec] of Object.entries(methods)) {
      this.#server.addMethod(name, async (params: unknown, client: ClientContext) => {
        try {
          this.#gate(name, spec, client);
          return (await spec.handler(params, client)) ?? null;
        } catch (error) {
          throw rpcException(error);
        }
      });
    }
    // Unknown methods get the standard -32601 with a reason too, so every error carries one.
    this.#server.handleMethodNotFound = async (request) =>
      request.id === undefined
        ? null
        : createJSONRPCErrorResponse(request.id, -32601, `unknown method ${JSON.stringify(request.method).slice(0, 80)}`, { reason: "METHOD_NOT_FOUND" });
  }

  /**
   * Answers one WebSocket text message. Returns the text to send back, or null (notifications).
   * Never throws: bad JSON is -32700, a bad envelope -32600 (json-rpc-2.0 decides both).
   * `admit` is charged one request per call, each call of a batch counting (so a batch is no way
   * around the rate limit); it returns 0, or the milliseconds to wait and the message is refused.
   */
  async receive(text: string, client: ClientContext, admit: (requests: number) => number = () => 0): Promise<string | null> {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
    const wait = admit(Array.isArray(payload) ? Math.max(1, Math.min(payload.length, MAX_BATCH)) : 1);
    if (wait > 0)
      return JSON.stringify({
        jsonrpc: "2.0",
        id: null,
        error: toRpcError(otpbError("RATE_LIMITED", "too many requests", { detail: { retryAfterMs: wait } })),
      });
    if (payload === undefined) return JSON.stringify(createJSONRPCErrorResponse(null, -32700, "parse error", { reason: "PARSE_ERROR" }));
    if (Array.isArray(payload) && payload.length > MAX_BATCH) {
      return JSON.stringify(createJSONRPCErrorResponse(null, -32600, `a batch holds at most ${MAX_BATCH} requests`, { reason: "INVALID_REQUEST" }));
    }
    // json-rpc-2.0 throws (instead of answering -32600) on envelopes that are not objects, such as
    // `42`, `null` or `[]`: those are answered here.
    // It also accepts an object as `id`, which JSON-RPC 2.0 §4 forbids.
    const isObject = (v: unknown): boolean => v !== null && typeof v === "object" && !Array.isArray(v) && validId((v as { id?: unknown }).id);
    if (!(isObject(payload) || (Array.isArray(payload) && payload.length > 0 && payload.every(isObject)))) {
      return JSON.stringify(
        createJSONRPCErrorResponse(null, -32600, "a request must be a JSON object (or a non-empty array of them)", { reason: "INVALID_REQUEST" }),
      );
    }
    let response: JSONRPCResponse | JSONRPCResponse[] | null;
    try {
      response = (await this.#server.receive(payload as never, client)) as JSONRPCResponse | JSONRPCResponse[] | null;
    } catch (error) {
      this.#log.warn("rpc: envelope refused by the JSON-RPC library", { error });
      return JSON.stringify(createJSONRPCErrorResponse(null, -32600, "invalid request", { reason: "INVALID_REQUEST" }));
    }
    if (response === null || (Array.isArray(response) && response.length === 0)) return null;
    return Array.isArray(response) ? `[${response.map(serialize).join(",")}]` : serialize(response);
  }

  #gate(name: string, spec: MethodSpec, client: ClientContext): void {
    if (name !== "hello" && !client.helloDone) throw otpbError("HELLO_REQUIRED", "call hello first");
    if (spec.nativeOnly === true && client.kind !== "native")
      throw otpbError("CAPABILITY_DENIED", `${name} is for the daemon's own user, not for pages`, { detail: { capability: "native" } });
    if (spec.capability === null && spec.nativeOnly !== true) return;
    if (!client.paired() && client.kind === "native")
      throw otpbError("UNAUTHORIZED", "prove the token first (auth.challenge, auth.prove) or connect to the daemon's Unix socket");
    if (!client.paired())
      throw otpbError("NOT_PAIRED", "this page is not paired: call pairing.request and have the user approve the code, or present the pairing secret in hello");
    if (spec.capability !== null && !client.capabilities().has(spec.capability)) {
      throw otpbError("CAPABILITY_DENIED", `${name} needs the ${spec.capability} capability`, { detail: { capability: spec.capability } });
    }
  }
}
