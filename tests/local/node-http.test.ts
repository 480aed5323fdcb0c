/**
 * The Node adapter over raw connections: a request answered before its body was read (413
 * on content-length) must not cost the next request on that connection; a client that
 * trickles its body or headers (slowloris) is cut off by a deadline; what node:http parses
 * but a web Request cannot hold (TRACE, a malformed Host, two Host headers) is a 4xx, not a 500.
 */
import { request as httpRequest, Agent, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { json, readText, withErrors } from "../../src/bus/http.ts";
import { serveNode } from "../../src/local/node-http.ts";

const server: Server = await serveNode(withErrors(async (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/small") return json({ ok: true });
  if (path === "/unread") return await new Promise(() => {}); // a handler that never reads nor answers
  await readText(request, 1024, path === "/slow" ? 600 : undefined); // 413 from content-length, before reading a byte
  return json({ ok: true });
}), 0, "127.0.0.1", { requestDeadlineMs: 1_500 });
const port = (server.address() as AddressInfo).port;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** One POST on the agent's connection; chunked (no content-length) when asked, so the limit is met while streaming. */
function send(agent: Agent, path: string, body: Buffer, chunked = false): Promise<{ status: number; text: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", ...(chunked ? {} : { "content-length": String(body.length) }) };
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "POST", agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, connection: res.headers.connection }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (chunked) for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
    req.end(chunked ? undefined : body);
  });
}

describe("the Node gateway after an early answer", () => {
  for (const chunked of [false, true]) {
    it(`answers the request that follows a 413 on the same keep-alive connection, 20 times in a row (${chunked ? "chunked, cut off while streaming" : "refused on content-length"})`, async () => {
      const big = Buffer.alloc(200 * 1024, "x");
      for (let i = 0; i < 20; i++) {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const first = await send(agent, "/big", big, chunked);
          expect(first.status).toBe(413);
          const second = await send(agent, "/small", Buffer.from("{}"));
          expect(second).toMatchObject({ status: 200, text: '{"ok":true}' });
        } finally {
          agent.destroy();
        }
      }
    }, 30_000);
  }

  it("closes the connection (and says so) when what is left of the body is past the discard bound", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await send(agent, "/big", Buffer.alloc(2 * 1024 * 1024, "x"));
      expect(first).toMatchObject({ status: 413, connection: "close" });
      expect(await send(agent, "/small", Buffer.from("{}"))).toMatchObject({ status: 200, text: '{"ok":true}' });
    } finally {
      agent.destroy();
    }
  }, 30_000);
});

/**
 * Raw bytes on a fresh socket, then `drip` one byte every 200 ms until the server answers or
 * closes: what came back and when the socket closed (ms), bounded by `giveUpMs`.
 */
function trickle(head: string, drip: string, giveUpMs = 8_000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, "127.0.0.1");
    let text = "";
    let i = 0;
    const timer = setInterval(() => socket.writable && socket.write(drip[i++ % drip.length]), 200);
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on("data", (chunk) => (text += chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ text, closedAfterMs: performance.now() - started });
    });
    socket.write(head);
  });
}

describe("slow clients (slowloris)", () => {
  const slowBody = "POST /slow HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{";

  it("a body trickled byte by byte gets the function's 408 naming the body, and the connection is closed", async () => {
    const { text, closedAfterMs } = await trickle(slowBody, "x");
    expect(text).toMatch(/^HTTP\/1.1 408/);
    expect(text).toMatch(/connection: close/i);
    expect(JSON.parse(/\{.*\}/.exec(text)![0])).toMatchObject({ error: "body_timeout", field: "body" });
    expect(closedAfterMs).toBeLessThan(4_000);
  });

  it("a body the handler never reads is cut off by the server's own request deadline", async () => {
    const { text, closedAfterMs } = await trickle(slowBody.replace("/slow", "/unread"), "x");
    expect(text).toMatch(/^HTTP\/1.1 408/);
    expect(closedAfterMs).toBeLessThan(5_000);
  });

  it("headers trickled byte by byte are cut off by the server's headers deadline", async () => {
    const { text, closedAfterMs } = await trickle("POST /small HTTP/1.1\r\nHost: localhost\r\n", "x-slow: y");
    expect(text).toMatch(/^HTTP\/1.1 408/);
    expect(closedAfterMs).toBeLessThan(5_000);
  });
});

describe("requests node:http parses but a web Request cannot hold", () => {
  const once = async (head: string) => (await trickle(head, "", 3_000)).text;
  it("TRACE is a 405 naming the method, and a malformed Host a 400 naming the host, not a 500", async () => {
    const trace = await once("TRACE /small HTTP/1.1\r\nHost: localhost\r\nconnection: close\r\n\r\n");
    expect(trace).toMatch(/^HTTP\/1.1 405/);
    expect(trace).toContain('"field":"method"');
    const host = await once("POST /small HTTP/1.1\r\nHost: a b\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    expect(host).toMatch(/^HTTP\/1.1 400/);
    expect(host).toContain('"field":"host"');
  });

  it("a request with more than one Host header is a 400 naming the host, whatever their case and values", async () => {
    for (const hosts of ["Host: localhost\r\nHost: localhost", "Host: localhost\r\nhost: evil.example", "HOST: a.example\r\nHost: b.example\r\nhost: c.example"]) {
      const text = await once(`GET /small HTTP/1.1\r\n${hosts}\r\nconnection: close\r\n\r\n`);
      expect(text, hosts).toMatch(/^HTTP\/1.1 400/);
      expect(text).toContain('"field":"host"');
    }
    expect(await once("GET /small HTTP/1.1\r\nHost: localhost\r\nconnection: close\r\n\r\n")).toMatch(/^HTTP\/1.1 200/);
  });
});
