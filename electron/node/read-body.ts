/** Reading a request body with a size bound, for Ghostport's HTTP servers (the service's socket, `ghostport ui`). */
import type { IncomingMessage } from 'node:http';

/** The body as text, or null when it is larger than `maxBytes` (the rest is drained, never buffered). */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
