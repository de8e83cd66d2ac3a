import { describe, expect, it } from 'vitest';
import { toHcl } from '../../../src/emitters/consul/hcl.js';
import { parseHcl } from './helpers.js';

describe('the HCL writer', () => {
  it('writes attributes, nested objects and lists with trailing commas, in the order built', () => {
    expect(
      toHcl({ Kind: 'service-splitter', Name: 'a', Splits: [{ Weight: 90, Service: 'a' }], Empty: [] }),
    ).toBe(
      'Kind = "service-splitter"\nName = "a"\nSplits = [\n  {\n    Weight = 90\n    Service = "a"\n  },\n]\nEmpty = []\n',
    );
  });

  it('quotes keys that are not identifiers and escapes strings, including the start of an interpolation', () => {
    const entry = {
      Kind: 'k',
      Name: 'n',
      Set: { 'x.a b': 'say "hi"\n', ok_key: '${x}' },
      Skip: undefined,
      On: true,
    };
    const text = toHcl(entry);
    expect(text).toContain('"x.a b" = "say \\"hi\\"\\n"');
    expect(text).toContain('ok_key = "\\u0024{x}"');
    expect(text).not.toContain('Skip');
    expect(parseHcl(text)).toEqual({
      Kind: 'k',
      Name: 'n',
      Set: { 'x.a b': 'say "hi"\n', ok_key: '${x}' },
      On: true,
    });
  });

  it("writes a template directive's start (%{) so that no HCL decoder reads one", () => {
    const text = toHcl({ Kind: 'k', Value: '%{ if true }x%{ endif }' });
    expect(text).toContain('Value = "\\u0025{ if true }x\\u0025{ endif }"');
    expect(parseHcl(text)).toEqual({ Kind: 'k', Value: '%{ if true }x%{ endif }' });
  });
});
