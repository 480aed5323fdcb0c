/**
 * The outbound guard's policy, without a network: which URLs checkOutbound lets through,
 * what it says when it refuses, how the allow-list and the injected resolver weigh in.
 * The end-to-end refusals (nothing reaches a forbidden receiver) are tests/security/ssrf.test.ts.
 */
import { describe, expect, it } from "vitest";
import { checkOutbound, OutboundRefusedError, type OutboundPolicy, parseAllowList, STRICT_OUTBOUND } from "../../src/bus/outbound.ts";
import { NonRetriableError } from "../../src/bus/errors.ts";
import { nonPublicRange, parseIP } from "../../src/bus/outbound-addresses.ts";

const names: Record<string, string[]> = {
  "public.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
  "rebind.example": ["127.0.0.1"],
  "half.example": ["93.184.216.34", "10.0.0.7"],
  "metadata.example": ["169.254.169.254"],
  "mapped.example": ["::ffff:127.0.0.1"],
  "nat64.example": ["64:ff9b::a9fe:a9fe"],
};
const resolve = async (host: string) => {
  if (names[host]) return names[host];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
};
const policy: OutboundPolicy = { allow: [], resolve };
const verdict = (url: string, p = policy) => checkOutbound(url, p).then(() => "allowed", (e: Error) => e);

describe("the outbound guard refuses every non-public target", () => {
  const refused: [string, RegExp][] = [
    ["http://127.0.0.1/", /127\.0\.0\.1, a loopback \(127\.0\.0\.0\/8\)/],
    ["https://127.0.0.1:8443/admin", /loopback/],
    ["http://2130706433/", /127\.0\.0\.1, a loopback/],
    ["http://0x7f.1/", /127\.0\.0\.1, a loopback/],
    ["http://0177.0.0.1/", /127\.0\.0\.1, a loopback/],
    ["http://127.1/", /127\.0\.0\.1, a loopback/],
    ["http://127.0.0.1./", /loopback/],
    ["http://%31%32%37.0.0.1/", /loopback/],
    ["https://public.example@127.0.0.1/", /carries credentials/], // the host is 127.0.0.1; refused before it is looked at
    ["http://localhost:54321/", /localhost names this machine/],
    ["http://LOCALHOST./", /localhost names this machine/],
    ["http://api.localhost/", /api\.localhost names this machine/],
    ["http://[::1]/", /loopback \(::1\/128\)/],
    ["http://[::ffff:127.0.0.1]/", /IPv4-mapped .* form of a loopback/],
    ["http://[::ffff:7f00:1]/", /IPv4-mapped .* form of a loopback/],
    ["http://[::]/", /unspecified/],
    ["http://0.0.0.0:8080/", /this network/],
    ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254, a link-local, cloud metadata/],
    ["http://[fe80::1]/", /link-local/],
    ["http://10.1.2.3/", /private \(10\.0\.0\.0\/8\)/],
    ["http://172.16.0.1/", /private \(172\.16\.0\.0\/12\)/],
    ["http://172.31.255.255/", /private/],
    ["http://192.168.1.1/", /private \(192\.168\.0\.0\/16\)/],
    ["http://[fc00::1]/", /unique local/],
    ["http://[fd12:3456::1]/", /unique local/],
    ["http://100.64.0.1/", /shared CGNAT/],
    ["http://224.0.0.1/", /multicast/],
    ["http://[ff02::1]/", /multicast/],
    ["http://255.255.255.255/", /broadcast/],
    ["http://[2002:7f00:1::]/", /6to4 form of a loopback/],
    ["https://rebind.example/", /rebind\.example resolves to 127\.0\.0\.1, a loopback/],
    ["https://half.example/", /half\.example resolves to 10\.0\.0\.7, a private/],
    ["https://metadata.example/", /169\.254\.169\.254, a link-local/],
    ["https://mapped.example/", /IPv4-mapped .* loopback/],
    ["https://nat64.example/", /NAT64 .* link-local/],
    ["file:///etc/passwd", /file: is neither https nor http/],
    ["gopher://127.0.0.1/", /neither https nor http/],
    ["http://public.example/", /plain http to public\.example: use https/],
  ];
  it.each(refused)("%s", async (url, reason) => {
    const error = await verdict(url);
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect(error).toBeInstanceOf(NonRetriableError); // a refused run goes to the dead letters
    expect((error as Error).message).toMatch(reason);
  });

  it("refuses a host name when no resolver is configured, rather than letting it through unchecked", async () => {
    expect(((await verdict("https://public.example/", STRICT_OUTBOUND)) as Error).message).toMatch(/no DNS resolver/);
  });

  it("a name that does not resolve is a retriable failure, not a refusal", async () => {
    const error = await verdict("https://gone.example/");
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toMatch(/cannot resolve gone\.example: .*ENOTFOUND/);
  });
});

describe("the outbound guard lets public https through, and only what the allow-list names besides", () => {
  it("public addresses and names over https", async () => {
    for (const url of ["https://public.example/hook?token=x", "https://93.184.216.34/", "https://[2606:4700::1111]/", "https://8.8.8.8:8443/"]) {
      expect(await verdict(url)).toBe("allowed");
    }
  });

  it("host:port allows that port only; a host any port; a CIDR range the addresses in it, plain http included", async () => {
    const allow = { allow: parseAllowList(" 127.0.0.1:4000 , receiver.test, 10.0.0.0/8, [::1]:8080"), resolve };
    expect(await verdict("http://127.0.0.1:4000/hook", allow)).toBe("allowed");
    expect(await verdict("http://2130706433:4000/", allow)).toBe("allowed"); // the same address, however spelled
    expect(await verdict("http://127.0.0.1:4001/hook", allow)).toBeInstanceOf(OutboundRefusedError);
    expect(await verdict("http://receiver.test:1234/", allow)).toBe("allowed");
    expect(await verdict("http://10.9.8.7/", allow)).toBe("allowed");
    expect(await verdict("http://[::1]:8080/", allow)).toBe("allowed");
    expect(await verdict("http://[::1]:8081/", allow)).toBeInstanceOf(OutboundRefusedError);
    expect(await verdict("https://half.example/", allow)).toBe("allowed"); // 10.0.0.7 is in the range
    expect(await verdict("http://169.254.169.254/", allow)).toBeInstanceOf(OutboundRefusedError);
  });

  it("a malformed allow-list entry is a configuration error, not an open door", () => {
    expect(() => parseAllowList("10.0.0.0/33")).toThrow(/not a CIDR range/);
    expect(() => parseAllowList("http://x/")).toThrow(/FEYXA_OUTBOUND_ALLOW/);
    expect(parseAllowList(undefined)).toEqual([]);
  });
});

describe("address ranges", () => {
  it("public addresses are not classified, the edges of private ranges are", () => {
    for (const ip of ["8.8.8.8", "172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]) {
      expect(nonPublicRange(parseIP(ip)!), ip).toBeUndefined();
    }
    for (const ip of ["172.16.0.0", "100.64.0.0", "100.127.255.255", "169.254.0.1", "2001:db8::1", "::127.0.0.1"]) {
      expect(nonPublicRange(parseIP(ip)!), ip).toBeDefined();
    }
    expect(parseIP("1::2::3")).toBeUndefined();
    expect(parseIP("256.0.0.1")).toBeUndefined();
  });
});
