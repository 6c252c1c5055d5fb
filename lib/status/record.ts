import type { PullSmsSendStatus } from '#lib/tencent/types.ts';

/** One delivery receipt, as the HTTP API, the direct invocation and the export present it. */
export interface StatusRecord {
  serialNo: string;
  phoneNumber: string;
  countryCode: string;
  subscriberNumber: string;
  /** SUCCESS or FAIL. */
  reportStatus: string;
  /** The carrier's raw receipt code (DELIVRD, UNDELIV, MK:0001, …). */
  description: string;
  /** Unix seconds. */
  userReceiveTime: number;
}

export function fromTencent(status: PullSmsSendStatus): StatusRecord {
  return {
    serialNo: status.SerialNo ?? '',
    phoneNumber: status.PhoneNumber ?? '',
    countryCode: status.CountryCode ?? '',
    subscriberNumber: status.SubscriberNumber ?? '',
    reportStatus: status.ReportStatus ?? '',
    description: status.Description ?? '',
    userReceiveTime: status.UserReceiveTime ?? 0,
  };
}

/** Receive time first; serial number breaks ties so the order is total and repeatable. */
export function byReceiveTime(a: StatusRecord, b: StatusRecord): number {
  return a.userReceiveTime - b.userReceiveTime || (a.serialNo < b.serialNo ? -1 : a.serialNo > b.serialNo ? 1 : 0);
}
