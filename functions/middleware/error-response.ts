import type middy from '@middy/core';
import { isSmsStatusError } from '#lib/errors.ts';
import { errorBody } from '#lib/error-body.ts';

/**
 * Turns a taxonomy error into the http error that `@middy/http-error-handler` renders: the JSON error
 * body of the API, its status code, and Retry-After on 429. Anything else is left to the handler's
 * fallback (a 500 that says nothing of the internals).
 */
export function errorResponse(): middy.MiddlewareObj {
  return {
    onError(request) {
      const error = request.error;
      if (!isSmsStatusError(error)) return;
      const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
      if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
      request.error = Object.assign(new Error(JSON.stringify(errorBody(error))), {
        name: error.name,
        statusCode: error.statusCode,
        expose: true,
        headers,
      });
    },
  };
}

export const FALLBACK_BODY = JSON.stringify(errorBody(undefined));
