/**
 * S3's conditional writes in front of s3rver, which ignores `If-Match` / `If-None-Match` on writes.
 *
 * Amazon S3 evaluates these headers on PutObject, CopyObject and CompleteMultipartUpload (never on
 * UploadPart: a multipart upload's conditions are evaluated when it completes):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
 *
 * - `If-None-Match: *` — 412 PreconditionFailed if an object exists at the key.
 * - `If-Match: "<etag>"` — 412 PreconditionFailed if the object's ETag differs, 404 NoSuchKey if there
 *   is no object ("Conditional write behavior" in the guide above).
 * - `If-None-Match` with an ETag instead of `*` — 501 NotImplemented, as S3 answers (reported in
 *   aws/aws-sdk-ruby#3144); likewise both headers at once (as versitygw found S3 to answer).
 *
 * The proxy speaks path-style addressing only (the product sets `forcePathStyle`). Every request that
 * names an object key runs under that key's lock, so a condition is checked (a HEAD to s3rver) and the
 * write done with nothing else touching the key in between: of two racing writers with the same
 * `If-Match`, exactly one wins. Reads take the lock as well, because s3rver rewrites an object's file
 * in place and a read racing a write would see half of it; S3 never shows a partial object.
 * Everything else — listings, multipart bookkeeping, parts — is forwarded untouched, bodies streamed.
 */
import { randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConditionalS3 {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** An S3 error answer: HTTP status, S3 error code and message, and the extra elements S3 adds. */
interface S3Refusal {
  status: number;
  code: string;
  message: string;
  detail?: Record<string, string>;
}

/** What the proxy does with a request: forward it as is, or under the object key's lock (checking conditions first for writes). */
type Route = { kind: 'pass' } | { kind: 'object' | 'write'; lockKey: string; objectPath: string; key: string };

/** Hop-by-hop headers: they describe one connection, not the request, so they are not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'expect']);

/** Where requests go on to: s3rver, over one keep-alive agent. */
interface Upstream {
  url: URL;
  agent: Agent;
}

export async function startConditionalS3(options: { upstream: string; port?: number }): Promise<ConditionalS3> {
  // A fresh connection per request: a kept-alive socket that s3rver closes (its keep-alive timeout)
  // just as a request goes out resets it, and that request, its body already streamed, cannot be sent
  // again. Loopback connections cost next to nothing.
  const upstream: Upstream = { url: new URL(options.upstream), agent: new Agent({ keepAlive: false }) };
  const locks = new KeyLocks();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = classify(req);
    if (route.kind === 'pass') return forward(upstream, req, res, false);
    await locks.run(route.lockKey, async () => {
      const refusal =
        route.kind === 'write' ? await checkConditions(upstream, req, route.objectPath, route.key) : undefined;
      if (refusal) return sendError(res, refusal);
      await forward(upstream, req, res, true);
    });
  }

  const server = createServer();
  const onRequest = (req: IncomingMessage, res: ServerResponse) =>
    void handle(req, res).catch(() => (res.headersSent ? res.destroy() : sendError(res, INTERNAL_ERROR)));
  server.on('request', onRequest);
  // Node answers `Expect: 100-continue` itself unless told otherwise; we decide after the conditions.
  server.on('checkContinue', onRequest);
  const port = await listen(server, options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      upstream.agent.destroy();
    },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The refusal S3 would give this write, or undefined to let it through. Called holding the key's lock. */
async function checkConditions(
  upstream: Upstream,
  req: IncomingMessage,
  objectPath: string,
  key: string,
): Promise<S3Refusal | undefined> {
  const conditions = { ifMatch: single(req.headers['if-match']), ifNoneMatch: single(req.headers['if-none-match']) };
  if (conditions.ifMatch === undefined && conditions.ifNoneMatch === undefined) return undefined;
  const unsupported = unsupportedConditions(conditions);
  if (unsupported) return unsupported;
  const current = await head(upstream, objectPath, req.headers.host);
  // No bucket: forward, so s3rver answers NoSuchBucket exactly as it does for any other write. Asked as
  // GetBucketLocation: s3rver answers a HEAD of the bucket by listing every object in it.
  if (
    current === undefined &&
    (await head(upstream, `${bucketPath(objectPath)}?location`, req.headers.host)) === undefined
  )
    return undefined;
  return evaluate(conditions, current, key);
}

/** The ETag s3rver gives the object (any value for a bucket), or undefined if there is none. */
function head({ url, agent }: Upstream, path: string, host: string | undefined): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const headers = host === undefined ? {} : { host };
    const outgoing = request(url, { method: 'HEAD', path, headers, agent }, (answer) => {
      answer.resume();
      if (answer.statusCode === 200) resolve(single(answer.headers['etag']) ?? '');
      else if (answer.statusCode === 404) resolve(undefined);
      else reject(new Error(`HEAD ${path} answered ${answer.statusCode}`));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/**
 * Sends the request to s3rver and its answer back. Resolves once s3rver has answered in full, so a
 * write is on disk before the key's lock is released. Under the lock the answer is relayed without
 * back-pressure: a slow (or never reading) client then costs memory, never a lock held forever.
 */
function forward({ url, agent }: Upstream, req: IncomingMessage, res: ServerResponse, locked: boolean): Promise<void> {
  // The client left while the request waited for its lock: nothing to do, and no body will come.
  if (res.destroyed || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const outgoing = request(url, { method: req.method, path: req.url, headers: withoutHopByHop(req.headers), agent });
    outgoing.on('close', () => resolve());
    outgoing.on('error', () => (res.headersSent ? res.destroy() : sendError(res, INTERNAL_ERROR)));
    outgoing.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
      if (!locked) return void answer.pipe(res);
      answer.on('data', (chunk: Buffer) => void (res.destroyed || res.write(chunk)));
      answer.on('end', () => res.end());
    });
    // The client went away: stop the upstream exchange too.
    res.on('close', () => res.writableFinished || outgoing.destroy());
    // The body is only sent once asked for: a refused write never uploads it.
    if (expectsContinue(req)) res.writeContinue();
    req.on('error', () => outgoing.destroy());
    req.pipe(outgoing);
  });
}

/** Whether and how a request touches an object: path-style `/bucket/key?query`. */
function classify(req: IncomingMessage): Route {
  const url = new URL(req.url ?? '/', 'http://proxy');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const rawKey = rest.join('/');
  if (!bucket || !rawKey) return { kind: 'pass' };
  const query = url.searchParams;
  // Creating a multipart upload, its parts, listing or aborting it: the object itself is not touched.
  if (query.has('uploads') || (query.has('uploadId') && req.method !== 'POST')) return { kind: 'pass' };
  const key = decode(rawKey);
  const route = { lockKey: `${decode(bucket)}/${key}`, objectPath: `/${bucket}/${rawKey}`, key };
  // PutObject and CopyObject carry no subresource (the SDK adds `x-id`); POST ?uploadId completes an upload.
  const isPut = req.method === 'PUT' && [...query.keys()].every((name) => name === 'x-id');
  const isComplete = req.method === 'POST' && query.has('uploadId');
  return { kind: isPut || isComplete ? 'write' : 'object', ...route };
}

/** Conditions S3 does not implement on writes: an ETag in `If-None-Match`, or both headers together. */
function unsupportedConditions({
  ifMatch,
  ifNoneMatch,
}: {
  ifMatch?: string;
  ifNoneMatch?: string;
}): S3Refusal | undefined {
  if (ifNoneMatch === undefined || (ifNoneMatch.trim() === '*' && ifMatch === undefined)) return undefined;
  return {
    status: 501,
    code: 'NotImplemented',
    message: 'A header you provided implies functionality that is not implemented',
    detail: { Header: ifMatch === undefined ? 'If-None-Match' : 'If-Match' },
  };
}

/** S3's verdict on a write given the current ETag (undefined: no object at the key). */
function evaluate(
  conditions: { ifMatch?: string; ifNoneMatch?: string },
  current: string | undefined,
  key: string,
): S3Refusal | undefined {
  if (conditions.ifNoneMatch !== undefined)
    return current === undefined ? undefined : preconditionFailed('If-None-Match');
  if (conditions.ifMatch === undefined) return undefined;
  if (current === undefined)
    return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', detail: { Key: key } };
  const wanted = conditions.ifMatch.trim();
  return wanted === '*' || unquote(wanted) === unquote(current) ? undefined : preconditionFailed('If-Match');
}

function preconditionFailed(condition: string): S3Refusal {
  return {
    status: 412,
    code: 'PreconditionFailed',
    message: 'At least one of the pre-conditions you specified did not hold',
    detail: { Condition: condition },
  };
}

const INTERNAL_ERROR: S3Refusal = {
  status: 500,
  code: 'InternalError',
  message: 'We encountered an internal error. Please try again.',
};

/** S3's XML error body, with the request-id headers the SDK reads into `$metadata`. */
function sendError(res: ServerResponse, { status, code, message, detail = {} }: S3Refusal): void {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const hostId = randomBytes(24).toString('base64');
  const fields = { Code: code, Message: message, ...detail, RequestId: requestId, HostId: hostId };
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${Object.entries(fields)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('')}</Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amz-request-id': requestId,
    'x-amz-id-2': hostId,
  });
  res.end(xml);
}

/** Runs tasks one at a time per key, in arrival order. */
class KeyLocks {
  readonly #tails = new Map<string, Promise<void>>();

  run(key: string, task: () => Promise<void>): Promise<void> {
    const current = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = current.catch(() => undefined);
    this.#tails.set(key, tail);
    // Forget idle keys, so the map does not grow with every key ever written.
    void tail.then(() => this.#tails.get(key) === tail && this.#tails.delete(key));
    return current;
  }
}

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

function expectsContinue(req: IncomingMessage): boolean {
  return req.headers.expect?.toLowerCase() === '100-continue';
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** ETags are compared as S3 does, with or without their surrounding quotes. */
function unquote(etag: string): string {
  return etag.replace(/^"(.*)"$/, '$1');
}

function bucketPath(objectPath: string): string {
  return objectPath.slice(0, objectPath.indexOf('/', 1));
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
