/**
 * The Node adapter: serves a web-standard fetch handler over node:http.
 *
 * A function may answer before reading its body (413 from content-length, 401 before
 * the body). Left unread, those bytes would be parsed as the next request on a kept-alive
 * connection, which is then reset. So the body is read only when the handler asks for
 * it, and whatever it left is read and thrown away before the answer is sent, up to
 * DISCARD_MAX_BYTES within DISCARD_MAX_MS; past that the answer says `connection: close`.
 *
 * A client that trickles its headers or body (slowloris) is cut off: the functions answer
 * 408 when a body has not arrived whole within BODY_DEADLINE_MS (src/bus/http.ts), and the
 * server itself closes a connection whose request (headers, then body) is not complete by
 * its deadline (FEYXA_BODY_DEADLINE_MS in npm start and the dispatcher; 10 s by default),
 * with a bare 408, whatever the handler does.
 * A request node:http parses but a web Request cannot hold (TRACE, a malformed Host) is a
 * JSON 405 or 400, never a 500; so is one with more than one Host header (RFC 9112 § 3.2:
 * node:http keeps the first and drops the others, which would route by a host the sender
 * may not have meant).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { HttpError } from "../bus/index.ts";
import { BODY_DEADLINE_MS, errorResponse, type FetchHandler } from "../bus/functions/index.ts";

/** What is read and discarded of a body the handler left, to keep the connection usable. */
const DISCARD_MAX_BYTES = 1024 * 1024;
const DISCARD_MAX_MS = 5_000;

/** Methods node:http parses that fetch's Request refuses to carry. */
const UNSUPPORTED_METHOD = /^(CONNECT|TRACE|TRACK)$/i;

export function toRequest(req: IncomingMessage): Request {
  if (UNSUPPORTED_METHOD.test(req.method ?? "")) {
    throw new HttpError(405, "method_not_allowed", `${req.method} is not served`, "method");
  }
  if (hostLines(req) > 1) {
    throw new HttpError(400, "invalid_request", "more than one Host header: send exactly one", "host");
  }
  let url: URL;
  try {
    url = new URL(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`);
  } catch {
    throw new HttpError(400, "invalid_request", "the Host header or the request target is not a valid URL", "host");
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(url, {
    method: req.method,
    headers,
    body: hasBody ? bodyOf(req) : undefined,
    // @ts-expect-error: Node's fetch requires it for streamed bodies; the DOM types do not know it
    duplex: "half",
  });
}

/** How many Host header lines the request carried (node:http's req.headers.host keeps only the first). */
function hostLines(req: IncomingMessage): number {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === "host") count++;
  return count;
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

export interface ServeOptions {
  /** The whole request (headers, then body) must have arrived by then; default BODY_DEADLINE_MS (10 s). */
  requestDeadlineMs?: number;
}

export async function serveNode(handler: FetchHandler, port: number, host = "127.0.0.1", options: ServeOptions = {}): Promise<Server> {
  const deadline = options.requestDeadlineMs ?? BODY_DEADLINE_MS;
  const server = createServer({
    headersTimeout: deadline,
    // A little past the functions' own body deadline, so that their JSON 408 is what a client normally sees.
    requestTimeout: deadline + 1_000,
    connectionsCheckingInterval: Math.min(1_000, deadline / 4),
  }, async (req, res) => {
    try {
      let response: Response;
      try {
        response = await handler(toRequest(req));
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        response = errorResponse(error);
      }
      const headers = Object.fromEntries(response.headers);
      if (headers.connection === "close" || !(await discardRest(req))) headers.connection = "close";
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
