/** The host clock in whole Unix seconds, as tokens keep time (a TOTP step counts from these). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
