// Request and response shapes come from the official SDK's model typings (type-only: no SDK code is bundled).
export type {
  PullSmsSendStatus,
  PullSmsSendStatusByPhoneNumberRequest,
} from 'tencentcloud-sdk-nodejs-sms/tencentcloud/services/sms/v20210111/sms_models.js';

export const ACTION = 'PullSmsSendStatusByPhoneNumber';
export const VERSION = '2021-01-11';
export const SERVICE = 'sms';
export const MAX_LIMIT = 100;
/** Tencent keeps receipts pullable for 7 days. */
export const MAX_LOOKBACK_SECONDS = 7 * 24 * 3600;

export interface Credentials {
  secretId: string;
  secretKey: string;
  token?: string;
}

/** Where credentials come from: fixed values locally, a cached secret in AWS. */
export interface CredentialSource {
  get(): Credentials | Promise<Credentials>;
  /** Called when Tencent refuses the credentials, so a rotated secret is read again. */
  invalidate?(): void;
}
