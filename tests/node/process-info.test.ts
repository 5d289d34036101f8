/** The clock tick (USER_HZ) that turns /proc/PID/stat's times into seconds, read without starting getconf. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readClockTicks } from '#node/process-info.ts';

/** An auxiliary vector of (type, value) pairs in the given word size and byte order. */
function auxv(pairs: readonly (readonly [number, number])[], word: 4 | 8, littleEndian: boolean): Buffer {
  const buffer = Buffer.alloc(pairs.length * 2 * word);
  pairs.flat().forEach((n, i) => {
    if (word === 8) (littleEndian ? buffer.writeBigUInt64LE : buffer.writeBigUInt64BE).call(buffer, BigInt(n), i * 8);
    else (littleEndian ? buffer.writeUInt32LE : buffer.writeUInt32BE).call(buffer, n, i * 4);
  });
  return buffer;
}

test('AT_CLKTCK (17) is found in either word size and byte order; absent or unreadable, 100', () => {
  const pairs = [[6, 4096], [17, 250], [0, 0]] as const;
  for (const word of [4, 8] as const) for (const le of [true, false]) assert.equal(readClockTicks(auxv(pairs, word, le), word, le), 250, `${word} bytes, ${le ? 'LE' : 'BE'}`);
  assert.equal(readClockTicks(auxv([[6, 4096], [0, 0], [17, 250]], 8, true), 8, true), 100, 'nothing after the end marker');
  assert.equal(readClockTicks(null), 100);
});

test('this machine: the same value getconf CLK_TCK prints', { skip: process.platform === 'linux' ? false : 'Linux: /proc/self/auxv' }, () => {
  assert.equal(readClockTicks(), Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()));
});
