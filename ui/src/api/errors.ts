// One error type for everything the API layer can fail with, whichever transport carried the call,
// so the UI shows every failure the same way (a toast with `message`) and can branch on `code`.

export class ApiError extends Error {
  readonly code: string;
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }
}

/** The code a stream's `done` rejects with after the caller stopped it: not a failure to show. */
export const ABORTED = 'aborted';

export function isAborted(e: unknown): boolean {
  return e instanceof ApiError && e.code === ABORTED;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Reads `{code, message, details?}` (a Tauri command rejection, an SSE `error` event) or the HTTP
 * error body `{"error": {"code", "message"}}`; anything else becomes an `unknown` error whose
 * message is whatever text there is, so nothing is ever shown as "[object Object]".
 */
export function toApiError(value: unknown, fallbackCode = 'unknown'): ApiError {
  if (value instanceof ApiError) return value;
  if (isRecord(value) && isRecord(value.error)) return toApiError(value.error, fallbackCode);
  if (isRecord(value) && typeof value.error === 'string') return new ApiError(fallbackCode, value.error);
  if (isRecord(value) && typeof value.message === 'string') {
    const code = typeof value.code === 'string' ? value.code : fallbackCode;
    return new ApiError(code, value.message, value.details);
  }
  if (value instanceof Error) return new ApiError(fallbackCode, value.message);
  if (typeof value === 'string') return new ApiError(fallbackCode, value);
  return new ApiError(fallbackCode, String(value));
}
