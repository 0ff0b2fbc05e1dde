import { describe, expect, it } from 'vitest';
import { parseByteRange } from '../../../src/control/byteRange.js';

const SIZE = 1000;

describe('parseByteRange', () => {
  it('sends the whole file without a Range header', () => {
    expect(parseByteRange(undefined, SIZE)).toEqual({ kind: 'full' });
  });

  it('takes bytes=a-b inclusive, cutting a last position past the end', () => {
    expect(parseByteRange('bytes=0-99', SIZE)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(parseByteRange('bytes=500-500', SIZE)).toEqual({ kind: 'partial', start: 500, end: 500 });
    expect(parseByteRange('bytes=900-5000', SIZE)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(parseByteRange('bytes=0-999999999999999999999', SIZE)).toEqual({
      kind: 'partial',
      start: 0,
      end: 999,
    });
  });

  it('takes bytes=a- to the end', () => {
    expect(parseByteRange('bytes=0-', SIZE)).toEqual({ kind: 'partial', start: 0, end: 999 });
    expect(parseByteRange('bytes=999-', SIZE)).toEqual({ kind: 'partial', start: 999, end: 999 });
  });

  it('takes bytes=-n as the last n bytes, the whole file when n is larger', () => {
    expect(parseByteRange('bytes=-50', SIZE)).toEqual({ kind: 'partial', start: 950, end: 999 });
    expect(parseByteRange('bytes=-5000', SIZE)).toEqual({ kind: 'partial', start: 0, end: 999 });
  });

  it('is unsatisfiable for a start past the end, an empty suffix, or any range of an empty file', () => {
    expect(parseByteRange('bytes=1000-', SIZE)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=1000-2000', SIZE)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=-0', SIZE)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseByteRange('bytes=-10', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('reads the unit without regard to case and spaces around the range', () => {
    expect(parseByteRange('Bytes= 10-19 ', SIZE)).toEqual({ kind: 'partial', start: 10, end: 19 });
  });

  it('ignores what it does not serve (the whole file is sent): other units, bad syntax, several ranges', () => {
    for (const header of [
      '',
      'bytes',
      'bytes=',
      'bytes=-',
      'items=0-9',
      'bytes=a-b',
      'bytes=1-2-3',
      'bytes=9-1',
      'bytes=0-9,20-29',
      'bytes=0x10-20',
      'bytes=+1-2',
    ]) {
      expect(parseByteRange(header, SIZE), header).toEqual({ kind: 'full' });
    }
  });
});
