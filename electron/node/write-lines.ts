/**
 * Writing a long stream of lines to a pipe the way a Unix tool does: pull the next line only
 * when the reader has room (back-pressure: a slow reader slows the producer, memory stays
 * bounded), and stop at once when the reader goes away (EPIPE: `ghostport history | head -1`).
 */

/**
 * Writes the lines, batched, to `out`; resolves true when all were written, false when the reader
 * went away. Lines are encoded into two buffers taken in turn, one filled while the other is
 * written, never a string: a string batch is a rope of every line in it, alive through each
 * young-generation collection and promoted with it, batch after batch (and a fresh buffer per
 * batch leaves the C heap fragmented). Memory: two batches, whatever the number of lines.
 */
export async function writeLines(lines: Iterable<string>, out: NodeJS.WritableStream, batchBytes = 64 * 1024): Promise<boolean> {
  let gone = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    gone = true;
    wake?.();
  };
  out.on('error', stop);
  out.on('close', stop);
  let written: Promise<void> = Promise.resolve();
  // One write in flight at a time, so the buffer filled next is never one still being written.
  const send = async (chunk: Buffer | string) => {
    await written;
    wake = null;
    if (gone) return;
    written = new Promise<void>((resolve) => {
      wake = resolve;
      out.write(chunk, () => resolve());
    });
  };
  let filling = Buffer.allocUnsafeSlow(batchBytes);
  let spare = Buffer.allocUnsafeSlow(batchBytes);
  let used = 0;
  try {
    for (const line of lines) {
      if (gone) return false;
      // A line that may not fit (UTF-8 takes at most 3 bytes per UTF-16 unit) sends the batch first.
      if (used + line.length * 3 > batchBytes) {
        if (used > 0) await send(filling.subarray(0, used));
        // send() returned once the spare buffer's own write had finished.
        [filling, spare, used] = [spare, filling, 0];
        // A line longer than a whole batch goes out on its own.
        if (line.length * 3 > batchBytes) {
          await send(line);
          continue;
        }
      }
      used += filling.write(line, used);
    }
    if (used > 0) await send(filling.subarray(0, used));
    await written;
    return !gone;
  } finally {
    out.off('error', stop);
    out.off('close', stop);
  }
}
