/**
 * The AWS JSON 1.1 protocol as the SDK speaks it to EventBridge: `POST /` with `X-Amz-Target:
 * AWSEvents.<Operation>`; answers are JSON with `Content-Type: application/x-amz-json-1.1`, errors a
 * `{"__type", "message"}` body whose `__type` the SDK turns into the error's `name`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'AWSEvents.';

/**
 * A whole-call failure: the error type the SDK raises and the HTTP status. A class, so that telling it
 * from a parsed request body cannot be fooled by a body with the same keys.
 */
export class AwsError {
  readonly type: string;
  readonly message: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    this.type = type;
    this.message = message;
    this.status = status;
  }
}

export function isAwsError(value: unknown): value is AwsError {
  return value instanceof AwsError;
}

/** The operation named by `X-Amz-Target`, or undefined when the request names none of EventBridge's. */
export function operationOf(req: IncomingMessage): string | undefined {
  const target = req.headers['x-amz-target'];
  if (req.method !== 'POST' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) return undefined;
  return target.slice(TARGET_PREFIX.length);
}

/** The region the client signed for (SigV4's credential scope), so events carry the client's region. */
export function signedRegion(req: IncomingMessage): string | undefined {
  return /Credential=[^/,]+\/\d{8}\/([^/,]+)\/events\//.exec(req.headers.authorization ?? '')?.[1];
}

export function sendAwsJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

export function sendAwsError(res: ServerResponse, { status, type, message }: AwsError): void {
  sendAwsJson(res, { __type: type, message }, status);
}

/** The request body as a JSON object, or the `SerializationException` AWS answers anything else with. */
export function readJsonObject(body: Buffer): Record<string, unknown> | AwsError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return new AwsError('SerializationException', 'The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return new AwsError('SerializationException', 'The request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
