/**
 * The Node adapter: serves a web-standard fetch handler over node:http.
 *
 * A function may answer before reading its body (413 from content-length, 401 before
 * the body). Left unread, those bytes would be parsed as the next request on a kept-alive
 * connection, which is then reset. So the body is read only when the handler asks for
 * it, and whatever it left is read and thrown away before the answer is sent, up to
 * DISCARD_MAX_BYTES within DISCARD_MAX_MS; past that the answer says `connection: close`.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { FetchHandler } from "../core/http.ts";

/** What is read and discarded of a body the handler left, to keep the connection usable. */
const DISCARD_MAX_BYTES = 1024 * 1024;
const DISCARD_MAX_MS = 5_000;

export function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method: req.method,
    headers,
    body: hasBody ? bodyOf(req) : undefined,
    // @ts-expect-error: Node's fetch requires it for streamed bodies; the DOM types do not know it
    duplex: "half",
  });
}

/**
 * The request's body as a web stream that pulls from the socket only when read (unlike
 * Readable.toWeb, which starts reading at once and then holds the stream paused).
 * Cancelling it stops reading and leaves the rest to discardRest.
 */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull: (controller) => new Promise<void>((resolve, reject) => {
      const settle = (then: () => void) => {
        req.off("readable", tryRead).off("end", onEnd).off("error", onError);
        then();
      };
      const onEnd = () => settle(() => (controller.close(), resolve()));
      const onError = (error: Error) => settle(() => reject(error));
      function tryRead() {
        const chunk = req.read() as Buffer | null;
        if (chunk !== null) settle(() => (controller.enqueue(new Uint8Array(chunk)), resolve()));
        else if (req.readableEnded) onEnd();
      }
      req.on("readable", tryRead).on("end", onEnd).on("error", onError);
      tryRead();
    }),
  });
}

/** Reads and drops what is left of the body: true once it ended, false past the bounds (or on error). */
function discardRest(req: IncomingMessage): Promise<boolean> {
  if (req.readableEnded) return Promise.resolve(true);
  if (Number(req.headers["content-length"] ?? 0) > DISCARD_MAX_BYTES) return Promise.resolve(false);
  return new Promise((resolve) => {
    let size = 0;
    const done = (ended: boolean) => {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", onError);
      if (!ended) req.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > DISCARD_MAX_BYTES) done(false);
    };
    const onEnd = () => done(true);
    const onError = () => done(false);
    const timer = setTimeout(() => done(false), DISCARD_MAX_MS);
    req.on("data", onData).on("end", onEnd).on("error", onError);
    req.resume();
  });
}

export async function serveNode(handler: FetchHandler, port: number, host = "127.0.0.1"): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      const response = await handler(toRequest(req));
      const headers = Object.fromEntries(response.headers);
      if (!(await discardRest(req))) headers.connection = "close";
      res.writeHead(response.status, headers);
      if (response.body) res.write(new Uint8Array(await response.arrayBuffer()));
      res.end();
    } catch {
      const reusable = await discardRest(req);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json", ...(reusable ? {} : { connection: "close" }) });
      res.end(JSON.stringify({ error: "internal", message: "internal error" }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
