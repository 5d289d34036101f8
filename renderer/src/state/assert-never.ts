/** Compile-time proof that a switch handled every case; throws only on a programming error. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
