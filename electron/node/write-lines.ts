/**
 * Writing a long stream of lines to a pipe the way a Unix tool does: pull the next line only
 * when the reader has room (back-pressure: a slow reader slows the producer, memory stays
 * bounded), and stop at once when the reader goes away (EPIPE: `ghostport history | head -1`).
 */

/** Writes the lines, batched, to `out`; resolves true when all were written, false when the reader went away. */
export async function writeLines(lines: Iterable<string>, out: NodeJS.WritableStream, batchBytes = 64 * 1024): Promise<boolean> {
  let gone = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    gone = true;
    wake?.();
  };
  out.on('error', stop);
  out.on('close', stop);
  try {
    let batch = '';
    for (const line of lines) {
      if (gone) return false;
      batch += line;
      if (batch.length < batchBytes) continue;
      const room = out.write(batch);
      batch = '';
      if (!room) await new Promise<void>((resolve) => ((wake = resolve), out.once('drain', resolve)));
      wake = null;
    }
    if (batch && !gone) out.write(batch);
    return !gone;
  } finally {
    out.off('error', stop);
    out.off('close', stop);
  }
}
