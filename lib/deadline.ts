/** A step ran out of the time it was given: the caller answers "try again" before the platform times out. */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

/**
 * `work`'s result, unless `signal` aborts first: then DeadlineExceeded, whatever the work does with the
 * same signal (an S3 upload aborts; a call that ignores it is left to finish unheard).
 */
export function beforeDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new DeadlineExceeded('the deadline passed before the work began'));
  return new Promise<T>((resolve, reject) => {
    const expire = (): void => reject(new DeadlineExceeded('the deadline passed'));
    signal.addEventListener('abort', expire, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', expire));
  });
}
