import { isSmsStatusError } from '#lib/errors.ts';

export interface ErrorBody {
  error: { code: string; message: string; requestId?: string; field?: string };
}

/** The error body of the HTTP API and the CLI (both adapters); anything outside the taxonomy stays opaque. */
export function errorBody(error: unknown): ErrorBody {
  if (!isSmsStatusError(error)) return { error: { code: 'InternalError', message: 'internal error' } };
  return { error: { code: error.code, message: error.detail, requestId: error.requestId, field: error.field } };
}
