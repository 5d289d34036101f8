/**
 * Untrusted text (process names, command lines, paths) made safe to look at: every control,
 * format, bidi-override or invisible character is replaced by a visible marker, so a hostile
 * process cannot fake line breaks, reorder the surrounding UI or hide characters.
 */

/** A run of text that is either shown as is or stands for one hidden character. */
export interface VisibleSegment {
  readonly text: string;
  /** True when `text` is a marker standing for an invisible or control character. */
  readonly hidden: boolean;
}

// Cc: C0/C1 controls; Cf: bidi controls, zero-widths, soft hyphen, BOM, tags; Zl/Zp: line and
// paragraph separators; Cs: lone surrogates. The Hangul fillers are letters that render blank
// and are a known trick for invisible names.
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u115F\u1160\u3164\uFFA0]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * The marker for one hidden character, in the escape notation the CLI, tray and notifications
 * use (`\n`, `\x1b`, `\u202e`): plain ASCII, so it renders in every font (Control Pictures
 * such as U+240A are missing from many Linux fonts). The window styles markers distinctly, so
 * a literal backslash typed in a command line cannot pass for one.
 */
export function markerFor(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** Splits untrusted text into plain runs and markers for hidden characters. */
export function toVisibleSegments(raw: string): readonly VisibleSegment[] {
  const segments: VisibleSegment[] = [];
  let last = 0;
  for (const match of raw.matchAll(HIDDEN)) {
    const index = match.index;
    if (index > last) segments.push({ text: raw.slice(last, index), hidden: false });
    segments.push({ text: markerFor(match[0]), hidden: true });
    last = index + match[0].length;
  }
  if (last < raw.length) segments.push({ text: raw.slice(last), hidden: false });
  return segments;
}

/** Untrusted text as one string with every hidden character made visible. */
export function toVisibleText(raw: string): string {
  return raw.replace(HIDDEN, markerFor);
}

/** True when the text holds anything that `toVisibleText` would replace. */
export function hasHiddenCharacters(raw: string): boolean {
  HIDDEN.lastIndex = 0;
  const found = HIDDEN.test(raw);
  HIDDEN.lastIndex = 0;
  return found;
}
