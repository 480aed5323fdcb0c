/**
 * The Node adapter over raw keep-alive connections: a request answered before its body
 * was read (413 on content-length) must not cost the next request on that connection.
 */
import { request as httpRequest, Agent, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { json, readText, withErrors } from "../../src/core/http.ts";
import { serveNode } from "../../src/local/node-http.ts";

const server: Server = await serveNode(withErrors(async (request) => {
  if (new URL(request.url).pathname === "/small") return json({ ok: true });
  await readText(request, 1024); // 413 from content-length, before reading a byte
  return json({ ok: true });
}), 0);
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
