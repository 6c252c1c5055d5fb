import type { StatusRecord } from '#lib/receipt.ts';
import type { PullSmsSendStatus } from '#lib/tencent/types.ts';

/** Tencent's status as our receipt. */
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
