import { isIPv6 } from 'node:net';

/**
 * Whether the text before `end` is a dotted IPv4 address: four groups of one to three digits, each at
 * most 255, without leading zeros (which some parsers read as octal); in one scan, with nothing
 * built (an endpoint's host is the text before its last colon).
 */
export function isIpv4Before(text: string, end: number): boolean {
  let groups = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else if (c === 46 && digits > 0) {
      groups++;
      digits = 0;
      value = 0;
    } else return false;
  }
  return groups === 3 && digits > 0;
}

/** Whether the text is a dotted IPv4 address (see isIpv4Before). */
export function isIpv4(text: string): boolean {
  return isIpv4Before(text, text.length);
}

/** Whether the text is an IPv6 address (RFC 4291 text forms, without brackets or a zone). */
export function isIpv6(text: string): boolean {
  return !text.includes('%') && isIPv6(text);
}

/** Whether the text is an IPv4 or IPv6 address. */
export function isIp(text: string): boolean {
  return isIpv4(text) || isIpv6(text);
}

/**
 * An IPv6 address no socket can listen on by itself: link-local (fe80::/10) needs the zone of an
 * interface, which a mesh cannot name, and multicast (ff00::/8) is not a unicast address. Both are
 * refused by bind() with EINVAL.
 */
export function isUnbindableIpv6(text: string): boolean {
  if (!isIpv6(text)) return false;
  const first = text.split(':')[0]!.toLowerCase();
  if (first.length !== 4) return false;
  return first.startsWith('ff') || /^fe[89ab]/.test(first);
}
