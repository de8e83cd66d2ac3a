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
