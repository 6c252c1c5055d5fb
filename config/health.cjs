// Delivery health on the dashboard (resources/alarms.yml): the delivery rate of each country that has a
// Receipts dimension of its own (METRIC_COUNTRY_CODES) and of the rest ('other'), as metric math over
// Receipts by ReportStatus + CountryCode. Built here because the countries are known only when packaged.

/** One country's delivered and failed receipts (hidden) and its delivery rate in percent. */
function countryRate(code, index) {
  const receipts = (status, id) => [
    'SmsStatus',
    'Receipts',
    'service',
    'sms-status',
    'ReportStatus',
    status,
    'CountryCode',
    code,
    { id, visible: false },
  ];
  const [delivered, failed] = [`d${index}`, `f${index}`];
  return [
    receipts('SUCCESS', delivered),
    receipts('FAIL', failed),
    [{ expression: `100 * ${delivered} / (${delivered} + ${failed})`, label: code === 'other' ? 'other' : `+${code}` }],
  ];
}

module.exports = async ({ resolveVariable }) => {
  const codes = String(await resolveVariable('param:metricCountryCodes'));
  if (!/^\d{1,4}(,\d{1,4})*$/.test(codes)) {
    throw new Error(`METRIC_COUNTRY_CODES must be country calling codes separated by commas, e.g. 86,852,1`);
  }
  const metrics = [...new Set(codes.split(',')), 'other'].flatMap(countryRate);
  const ratio = Number(await resolveVariable('param:deliveryFailureAlarmRatio'));
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`DELIVERY_FAILURE_ALARM_RATIO must be a number from 0 to 1`);
  return {
    // Inserted into the dashboard's JSON body (a Fn::Sub string) as the widget's metrics array.
    countryRateMetrics: JSON.stringify(metrics),
    // The delivery rate under which the failure-ratio alarm fires, drawn on the delivery-rate chart.
    alarmRatePercent: String(Math.round((1 - ratio) * 10_000) / 100),
  };
};
