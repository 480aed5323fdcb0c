/**
 * Which IP addresses an outgoing request may reach: the address arithmetic behind
 * src/bus/outbound.ts. An address is public when it is in none of the special-purpose
 * ranges (RFC 6890 and its updates): loopback, private, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, "this network", documentation, benchmarking, multicast,
 * reserved and broadcast; for IPv6, only global unicast (2000::/3) minus its special
 * blocks, with the IPv4 address inside a mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::) or
 * 6to4 (2002::) address judged as IPv4.
 */

export interface Address {
  version: 4 | 6;
  value: bigint;
}

export interface Range extends Address {
  bits: number;
  label: string;
}

/** A dotted quad of four decimal numbers (what the URL parser and DNS give), else undefined. */
export function parseIPv4(text: string): Address | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return { version: 4, value: parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n) };
}

/** An IPv6 address (brackets, a zone and a trailing dotted quad allowed), else undefined. */
export function parseIPv6(text: string): Address | undefined {
  let s = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const v4 = parseIPv4(quad[1]);
    if (!v4) return undefined;
    s = s.slice(0, -quad[1].length) + `${(v4.value >> 16n).toString(16)}:${(v4.value & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const [head, tail] = [groups(halves[0]), halves.length === 2 ? groups(halves[1]) : []];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return { version: 6, value: all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

export const parseIP = (text: string): Address | undefined => parseIPv4(text) ?? parseIPv6(text);

/** "a.b.c.d/n" or "v6/n" (a bare address is its own /32 or /128), else undefined. */
export function parseRange(text: string, label = text): Range | undefined {
  const [ip, bits, ...rest] = text.split("/");
  const address = parseIP(ip);
  if (!address || rest.length) return undefined;
  const width = address.version === 4 ? 32 : 128;
  const n = bits === undefined ? width : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  return Number.isInteger(n) && n <= width ? { ...address, bits: n, label } : undefined;
}

export function inRange(address: Address, range: Range): boolean {
  if (address.version !== range.version) return false;
  const shift = BigInt((address.version === 4 ? 32 : 128) - range.bits);
  return address.value >> shift === range.value >> shift;
}

const ranges = (list: [string, string][]) => list.map(([cidr, label]) => parseRange(cidr, `${label} (${cidr})`)!);

const NON_PUBLIC_V4 = ranges([
  ["0.0.0.0/8", "this network / unspecified"], ["10.0.0.0/8", "private"], ["100.64.0.0/10", "shared CGNAT"],
  ["127.0.0.0/8", "loopback"], ["169.254.0.0/16", "link-local, cloud metadata"], ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "IETF protocol assignments"], ["192.0.2.0/24", "documentation"], ["192.88.99.0/24", "6to4 relay"],
  ["192.168.0.0/16", "private"], ["198.18.0.0/15", "benchmarking"], ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"], ["224.0.0.0/4", "multicast"], ["240.0.0.0/4", "reserved, broadcast"],
]);

/** IPv6 ranges that carry an IPv4 address in their last 32 bits (6to4 carries it in bits 16-48). */
const EMBEDDING_V4 = ranges([["::ffff:0:0/96", "IPv4-mapped"], ["64:ff9b::/96", "NAT64"]]);
const SIX_TO_FOUR = parseRange("2002::/16")!;
const GLOBAL_UNICAST = parseRange("2000::/3")!;
const NON_PUBLIC_V6 = ranges([["2001::/23", "IETF protocol assignments"], ["2001:db8::/32", "documentation"]]);
const OUTSIDE_GLOBAL = ranges([
  ["::/128", "unspecified"], ["::1/128", "loopback"], ["fc00::/7", "unique local (private)"],
  ["fe80::/10", "link-local"], ["ff00::/8", "multicast"], ["::/0", "not global unicast"],
]);

/** Why an address is not public (its range, named), or undefined when it is public. */
export function nonPublicRange(address: Address): string | undefined {
  if (address.version === 4) return NON_PUBLIC_V4.find((r) => inRange(address, r))?.label;
  const embedding = EMBEDDING_V4.find((r) => inRange(address, r));
  if (embedding) return judgeEmbedded(address.value & 0xffffffffn, embedding.label);
  if (inRange(address, SIX_TO_FOUR)) return judgeEmbedded((address.value >> 80n) & 0xffffffffn, "6to4");
  if (!inRange(address, GLOBAL_UNICAST)) return OUTSIDE_GLOBAL.find((r) => inRange(address, r))!.label;
  return NON_PUBLIC_V6.find((r) => inRange(address, r))?.label;
}

function judgeEmbedded(v4: bigint, how: string): string | undefined {
  const inner = nonPublicRange({ version: 4, value: v4 });
  return inner && `${how} form of a ${inner} address`;
}

/** The address as text, IPv4 dotted, IPv6 in full groups (for messages). */
export function formatAddress(address: Address): string {
  if (address.version === 4) return [24n, 16n, 8n, 0n].map((s) => String((address.value >> s) & 0xffn)).join(".");
  return Array.from({ length: 8 }, (_, i) => ((address.value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(":");
}
