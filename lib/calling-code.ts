import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/**
 * The country calling code of an E.164 number (1 to 3 digits: 1, 7, 44, 852, 971 …) by the numbering plan
 * libphonenumber keeps, the one table every part that splits a number uses; undefined for a code no
 * country or service has.
 */
export function callingCodeOf(phoneNumber: string): string | undefined {
  return parsePhoneNumberFromString(phoneNumber)?.countryCallingCode;
}
