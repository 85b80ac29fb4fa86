/**
 * Every error otpbridge raises on purpose carries a stable `reason`: the API sends it as
 * `error.data.reason`, the CLI maps it to an exit code, and docs/ERRORS.md lists them all.
 * Messages name what was wrong and what was expected; they never quote secret values.
 */
export const REASONS = {
  /** A caller-supplied value has the wrong type, length or range. */
  INVALID_INPUT: { exitCode: 2, rpcCode: -32602 },
  /** An otpauth URI, base32 or hex string could not be parsed. */
  INVALID_SECRET_FORMAT: { exitCode: 2, rpcCode: -32602 },
  /** A response from a device or a peer did not match the protocol. */
  MALFORMED_RESPONSE: { exitCode: 3, rpcCode: -32010 },
  /** The device answered with a status word that means failure. */
  DEVICE_ERROR: { exitCode: 3, rpcCode: -32011 },
  /** The serial matches no known programmable model: nothing is sent that could lock it. */
  UNKNOWN_MODEL: { exitCode: 3, rpcCode: -32012 },
  /** A resource (a resident key set) was used after release(): a bug in the caller. */
  RELEASED: { exitCode: 70, rpcCode: -32603 },
  /** The WebAssembly core is in a state it should never reach. */
  INTERNAL: { exitCode: 70, rpcCode: -32603 },
} as const satisfies Record<string, { exitCode: number; rpcCode: number }>;

export type Reason = keyof typeof REASONS;

export interface OtpbridgeErrorOptions {
  /** Non-secret structured detail (field names, lengths, status words) for logs and `error.data`. */
  detail?: Record<string, unknown>;
  cause?: unknown;
}

/** An error with a stable {@link Reason}. Build it through {@link otpbError}. */
export class OtpbridgeError extends Error {
  readonly reason: Reason;
  readonly detail: Record<string, unknown>;

  constructor(reason: Reason, message: string, options: OtpbridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OtpbridgeError";
    this.reason = reason;
    this.detail = options.detail ?? {};
  }
}

/** The one factory for otpbridge errors. */
export function otpbError(reason: Reason, message: string, options?: OtpbridgeErrorOptions): OtpbridgeError {
  return new OtpbridgeError(reason, message, options);
}

/** The reason of any thrown value: its own if it has one, else INTERNAL. */
export function reasonOf(error: unknown): Reason {
  if (error instanceof OtpbridgeError) return error.reason;
  if (error instanceof TypeError || error instanceof RangeError) {
    const reason = (error as { reason?: unknown }).reason;
    if (typeof reason === "string" && reason in REASONS) return reason as Reason;
  }
  return "INTERNAL";
}
