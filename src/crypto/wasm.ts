import { WASM_BASE64 } from "./wasm-binary.generated.js";

/** The exports every part of the facade relies on; each area types its own functions on top. */
export interface WasmBaseExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
}

const PAGE = 65536;
const ALIGN = 16;

interface Block {
  ptr: number;
  size: number;
}

/**
 * Owns the one WebAssembly instance, its linear memory and a heap managed from JS.
 *
 * The AssemblyScript side never allocates (runtime "stub", static tables only), so every buffer it
 * touches comes from {@link alloc}. Growing memory detaches every view on the old buffer: views here
 * are private and re-derived after any growth, and callers only ever receive copies.
 * Every freed block is zeroed, so key material never outlives its release.
 */
export class WasmCore<E extends WasmBaseExports = WasmBaseExports> {
  readonly exports: E;
  private readonly memory: WebAssembly.Memory;
  private bytes: Uint8Array;
  /** Free blocks, sorted by address, coalesced on free. */
  private readonly free: Block[] = [];
  private readonly used = new Map<number, number>();
  private top: number;

  constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, {
      env: {
        abort(_msg: number, _file: number, line: number, column: number): never {
          throw new Error(`otpbridge WASM core aborted at ${line}:${column}`);
        },
      },
    });
    this.exports = instance.exports as unknown as E;
    this.memory = this.exports.memory;
    this.bytes = new Uint8Array(this.memory.buffer);
    this.top = align(this.exports.heapBase());
  }

  /** A private byte view of the whole memory, valid until the next {@link alloc}. */
  view(): Uint8Array {
    if (this.bytes.buffer !== this.memory.buffer) this.bytes = new Uint8Array(this.memory.buffer);
    return this.bytes;
  }

  /** A 32-bit little-endian view, valid until the next {@link alloc}. Pointers must be 4-aligned. */
  view32(): Uint32Array {
    return new Uint32Array(this.memory.buffer);
  }

  /** Allocates `size` bytes, 16-byte aligned, zero-filled; grows memory if needed. */
  alloc(size: number): number {
    const want = Math.max(ALIGN, align(size));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i]!;
      if (block.size < want) continue;
      const ptr = block.ptr;
      if (block.size === want) this.free.splice(i, 1);
      else {
        block.ptr += want;
        block.size -= want;
      }
      this.used.set(ptr, want);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + want;
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    this.used.set(ptr, want);
    return ptr;
  }

  /** Zeroes and releases a block from {@link alloc}. */
  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`WasmCore.release: ${ptr} is not an allocated block`);
    this.used.delete(ptr);
    this.view().fill(0, ptr, ptr + size);
    if (ptr + size === this.top) {
      this.top = ptr;
      // The block below the top may now be free too.
      const last = this.free[this.free.length - 1];
      if (last && last.ptr + last.size === this.top) {
        this.top = last.ptr;
        this.free.pop();
      }
      return;
    }
    let i = 0;
    while (i < this.free.length && this.free[i]!.ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, size });
    const next = this.free[i + 1];
    if (next && ptr + size === next.ptr) {
      this.free[i]!.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.free[i]!.size;
      this.free.splice(i, 1);
    }
  }

  /** Copies `data` into memory at `ptr`. */
  write(ptr: number, data: Uint8Array): void {
    this.view().set(data, ptr);
  }

  /** Returns a copy of `length` bytes at `ptr`; never a view into WASM memory. */
  read(ptr: number, length: number): Uint8Array {
    return this.view().slice(ptr, ptr + length);
  }

  /** Zeroes `length` bytes at `ptr` (scratch that held a secret). */
  wipe(ptr: number, length: number): void {
    this.view().fill(0, ptr, ptr + length);
  }

  /** Allocates, runs `fn`, then zeroes and frees every block, also when `fn` throws. */
  scoped<T>(sizes: readonly number[], fn: (...ptrs: number[]) => T): T {
    const ptrs: number[] = [];
    try {
      for (const size of sizes) ptrs.push(this.alloc(size));
      return fn(...ptrs);
    } finally {
      for (const ptr of ptrs) this.release(ptr);
    }
  }

  /** Bytes currently allocated (for tests and leak checks). */
  allocatedBytes(): number {
    let total = 0;
    for (const size of this.used.values()) total += size;
    return total;
  }
}

function align(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

let shared: WasmCore | undefined;

/** The process-wide core instance, compiled on first use. */
export function wasmCore<E extends WasmBaseExports>(): WasmCore<E> {
  shared ??= new WasmCore(new WebAssembly.Module(Buffer.from(WASM_BASE64, "base64")));
  return shared as unknown as WasmCore<E>;
}
