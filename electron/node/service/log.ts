/**
 * The service's log: one line per record, as text for a terminal or as one JSON object a line
 * (`--log-format json`) for journald, Loki or Elasticsearch.
 */

/** How the log is written. */
export type LogFormat = 'text' | 'json';

/** A log record's level. */
export type LogLevel = 'info' | 'warn' | 'error';

/** The service's logger. */
export type Logger = (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => void;

/** A logger writing to `write` (stderr by default) in the given format. */
export function createLogger(format: LogFormat, write: (line: string) => void = (line) => process.stderr.write(line), now: () => Date = () => new Date()): Logger {
  return (level, message, fields = {}) => {
    if (format === 'json') {
      write(`${JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields })}\n`);
      return;
    }
    // JSON.stringify quotes and escapes values: a client-chosen string cannot forge a log line.
    const extra = Object.entries(fields).map(([key, value]) => ` ${key}=${typeof value === 'number' ? value : JSON.stringify(value)}`);
    write(`ghostport serve: ${level === 'info' ? '' : `${level}: `}${message}${extra.join('')}\n`);
  };
}
