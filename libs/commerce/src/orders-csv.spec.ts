import { csvCell } from './orders-csv';

describe('csvCell', () => {
  it('leaves plain text and numbers alone', () => {
    expect(['ops@acme.example', 'superdb', 4900, 0, ''].map(csvCell)).toEqual([
      'ops@acme.example',
      'superdb',
      '4900',
      '0',
      '',
    ]);
    expect(csvCell(null)).toBe('');
  });

  it('quotes cells with commas, quotes or line breaks, doubling the quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvCell('one\nline feed')).toBe('"one\nline feed"');
  });

  it('keeps a spreadsheet from running any cell as a formula', () => {
    expect(['=1+2', '+1', '-1', '@SUM(A1)', '\tx', '\rx'].map(csvCell)).toEqual([
      "'=1+2",
      "'+1",
      "'-1",
      "'@SUM(A1)",
      "'\tx",
      `"'\rx"`,
    ]);
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(
      `"'=HYPERLINK(""http://evil.example"",""x"")"`,
    );
    // A formula character later in the cell is harmless.
    expect(csvCell('a=1')).toBe('a=1');
  });
});
