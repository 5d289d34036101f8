/** A failure to start `ghostport serve`, with what to do about it: the CLI prints it and exits 2. */
export class ServeError extends Error {}
