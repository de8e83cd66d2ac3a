export const TARGET = 'iptables';

/**
 * Opens `table <family> meshgen` so that `nft -f` replaces it as one transaction: declaring the table
 * first makes the delete succeed when it does not exist yet; nothing outside the table is touched.
 */
export function nftTableHeader(family: 'inet' | 'ip'): string[] {
  return [
    `table ${family} meshgen {`,
    '}',
    `delete table ${family} meshgen`,
    '',
    `table ${family} meshgen {`,
  ];
}

/**
 * An iptables comment argument: double-quoted for iptables-restore, which reads `"` and `\` as its
 * own syntax, so they are left out, as are control characters; at most 256 bytes (the comment
 * match's limit). Comments quote names and addresses from the mesh.
 */
export function iptablesComment(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/["\\\x00-\x1f\x7f\u2028\u2029]/g, '');
  return `"${Buffer.from(clean)
    .subarray(0, 255)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}"`;
}

/** An nftables or shell comment line's text: on one line whatever it quotes. */
export function lineComment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, '?');
}
