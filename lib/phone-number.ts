import { InvalidInput } from '#lib/errors.ts';

/** E.164: '+', a country code and a subscriber number, 8 to 16 characters in all. */
const E164 = /^\+[1-9]\d{6,14}$/;

export function isE164(value: unknown): value is string {
  return typeof value === 'string' && E164.test(value);
}

export function parsePhoneNumber(value: unknown, field = 'phoneNumber'): string {
  if (!isE164(value)) {
    throw new InvalidInput(
      `${field} must be an E.164 number: '+', country code and subscriber number, 8 to 16 characters (e.g. +8613711112222)`,
      { field, code: 'InvalidParameterValue.IncorrectPhoneNumber' },
    );
  }
  return value;
}
