// Hashing half of the WebAssembly core: SHA-1/256/512 and HMAC (md.ts), HOTP key states, code batches
// and window searches (hotp.ts). src/crypto/_hash-core.ts types these exports for the facade.
export { sha1, sha256, sha512, hmacSha1, hmacSha256, hmacSha512 } from "./md";
export {
  sha1KeyStates, sha256KeyStates, sha512KeyStates,
  sha1Codes, sha256Codes, sha512Codes,
  sha1CodesAt, sha256CodesAt, sha512CodesAt,
  sha1Search, sha256Search, sha512Search,
} from "./hotp";
