// The WebAssembly core: one module, built with SIMD, memory owned by the JS facade.
//
// Rules every file under assembly/ follows, because src/crypto/wasm.ts manages the heap from JS:
// - never allocate (no `new`, no managed arrays or strings); constant tables live in `memory.data`;
// - take every buffer as a pointer argument that the facade allocated;
// - validate nothing: the facade checks lengths and ranges before calling in.
export * from "./hash/index";
export * from "./cipher/index";

/** First byte past the static data: where the facade's allocator starts. */
export function heapBase(): usize {
  return __heap_base;
}
