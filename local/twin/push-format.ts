import type { PullSmsSendStatus } from '#lib/tencent/types.ts';

/** One receipt as Tencent's status callback carries it: every field a string, as Tencent documents it. */
export type CallbackReceipt = Record<
  'user_receive_time' | 'nationcode' | 'mobile' | 'report_status' | 'errmsg' | 'description' | 'sid',
  string
>;

/** Tencent's console and docs give callback times in Beijing time, with no zone in the field itself. */
export const DEFAULT_UTC_OFFSET = '+08:00';

const UTC_OFFSET = /^([+-])(\d{2}):(\d{2})$/;

/** Seconds east of UTC of an offset such as '+08:00', or undefined when it is not one (real zones stay within ±14:00). */
export function offsetSeconds(offset: unknown): number | undefined {
  const match = typeof offset === 'string' ? UTC_OFFSET.exec(offset) : null;
  if (!match) return undefined;
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  if (minutes > 59 || hours * 60 + minutes > 14 * 60) return undefined;
  return (match[1] === '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
}

/** Unix seconds as the 'YYYY-MM-DD hh:mm:ss' wall time of a zone `offset` seconds east of UTC. */
export function wallTime(unixSeconds: number, offset: number): string {
  return new Date((unixSeconds + offset) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

// The callback's `description` is free text for people; the pull API has only the code, so the twin
// makes up a line per code rather than leaving the field empty (receivers must not parse it).
const DESCRIPTIONS: Record<string, string> = {
  DELIVRD: 'the user received the message',
  UNDELIV: 'the message could not be delivered',
  EXPIRED: 'the message expired before it was delivered',
  REJECTD: 'the carrier rejected the message',
  DELETED: 'the carrier deleted the message',
  UNKNOWN: 'the carrier reported an unknown status',
};

function describe(code: string): string {
  return DESCRIPTIONS[code] ?? `the carrier reported ${code || 'no code'}`;
}

/** A receipt of the pull API as the callback item Tencent would push for it. */
export function callbackReceipt(receipt: PullSmsSendStatus, offset: number): CallbackReceipt {
  const errmsg = receipt.Description ?? '';
  return {
    user_receive_time: wallTime(receipt.UserReceiveTime ?? 0, offset),
    nationcode: receipt.CountryCode ?? '',
    mobile: receipt.SubscriberNumber ?? '',
    report_status: receipt.ReportStatus ?? '',
    errmsg,
    description: describe(errmsg),
    sid: receipt.SerialNo ?? '',
  };
}
