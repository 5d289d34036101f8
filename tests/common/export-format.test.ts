import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CSV_COLUMNS, csvField, csvHeaderLine, csvLine, defaultExportFileName, jsonClosing, jsonEvent, jsonOpening } from '#common/export-format.ts';
import type { ExportMeta } from '#common/export-format.ts';
import type { PortEvent } from '#common/model.ts';

/** A whole CSV document from the streamed pieces, as the export writes it. */
const formatEventsCsv = (events: readonly PortEvent[]): string => csvHeaderLine() + events.map(csvLine).join('');
/** A whole JSON document from the streamed pieces, as the export writes it. */
const formatEventsJson = (events: readonly PortEvent[], meta: ExportMeta): string =>
  jsonOpening(meta) + events.map(jsonEvent).join('') + jsonClosing(events.length);
import { makeEvent, makeProcess, makeSocket } from './desktop-fixtures.ts';

/** A small RFC 4180 reader, to check that what we write reads back cell for cell. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

test('formula-looking text is neutralised with a leading apostrophe', () => {
  for (const evil of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx']) {
    const field = csvField(evil);
    const unquoted = field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field;
    assert.equal(unquoted.startsWith("'"), true, JSON.stringify(evil));
  }
  assert.equal(csvField('nc'), 'nc');
  assert.equal(csvField(-1), '-1', 'numbers are never formulas');
  assert.equal(csvField(null), '');
});

test('commas, quotes and line breaks are quoted per RFC 4180', () => {
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
});

test('a hostile process name survives a round trip and stays inert', () => {
  const name = '=cmd|"/c calc"!A1,\r\n"x"';
  const event = makeEvent({ seq: 9, socket: makeSocket({ process: makeProcess({ name, command: '@evil, "q"' }) }) });
  const rows = parseCsv(formatEventsCsv([event]));
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], [...CSV_COLUMNS]);
  const cells = rows[1]!;
  assert.equal(cells.length, CSV_COLUMNS.length);
  assert.equal(cells[CSV_COLUMNS.indexOf('process_name')], `'${name}`);
  assert.equal(cells[CSV_COLUMNS.indexOf('command')], `'@evil, "q"`);
  assert.equal(cells[CSV_COLUMNS.indexOf('seq')], '9');
  assert.equal(cells[CSV_COLUMNS.indexOf('pid')], '4711');
  assert.equal(cells[CSV_COLUMNS.indexOf('flapping')], 'false');
});

test('any text round-trips through a field, and no field ever starts a formula', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (text) => {
      const field = csvField(text);
      const rows = parseCsv(`${field}\r\n`);
      const back = rows[0]?.[0] ?? '';
      const expected = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
      assert.equal(back, expected);
      assert.equal(/^[=+\-@]/.test(back), false);
    }),
    { numRuns: 500 },
  );
});

test('JSON export holds the events as stored and says what it is', () => {
  const events = [makeEvent({ seq: 1 }), makeEvent({ seq: 2, type: 'disappeared' })];
  const parsed = JSON.parse(formatEventsJson(events, { exportedAt: 'now', app: 'Ghostport', version: '0.1.0', query: { limit: 5 } }));
  assert.equal(parsed.count, 2);
  assert.deepEqual(parsed.events, JSON.parse(JSON.stringify(events)));
  assert.deepEqual(parsed.query, { limit: 5 });
  const empty = JSON.parse(formatEventsJson([], { exportedAt: 'now', app: 'Ghostport', version: '0.1.0', query: {} }));
  assert.deepEqual([empty.count, empty.events], [0, []]);
});

test('the default file name has no colons (not allowed on Windows)', () => {
  assert.equal(defaultExportFileName('csv', new Date('2026-01-31T10:00:00.123Z')), 'ghostport-events-2026-01-31T10-00-00Z.csv');
});
