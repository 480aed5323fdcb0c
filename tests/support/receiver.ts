/** A webhook receiver on loopback (node:http) that records each request and answers as the test scripts it. */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll } from "vitest";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * What to answer: a status (+ headers, body), or "hang" to never answer; `stall: true`
 * sends the status, headers and body so far, and never ends the answer.
 */
export type Answer = { status: number; headers?: Record<string, string>; body?: string; stall?: boolean } | "hang";

export async function startReceiver(answer: (request: Received, index: number) => Answer = () => ({ status: 200, body: "ok" })) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(request);
      const a = answer(request, received.length - 1);
      if (a === "hang") return;
      res.writeHead(a.status, { "content-type": "text/plain", ...a.headers });
      if (a.stall) {
        res.flushHeaders();
        if (a.body) res.write(a.body);
        return;
      }
      res.end(a.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  afterAll(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { base, received };
}
