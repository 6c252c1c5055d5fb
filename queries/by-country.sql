-- Delivery report, by country: each country code with receipts in the window [begin, end) (unix
-- seconds, UTC), by receipts descending then code, with delivered (SUCCESS), failed (FAIL) and the rate.
-- Execution parameters, in this order: begin, end, begin, end.
-- delivery_rate = delivered / (delivered + failed) rounded half up to 4 decimals, NULL with neither:
-- floor((20000 d + t) / (2 t)) / 10000 over whole numbers held exactly in doubles (t = d + f).
SELECT country_code,
       receipts,
       delivered,
       failed,
       CASE WHEN delivered + failed > 0
            THEN floor((20000 * CAST(delivered AS double) + (delivered + failed))
                       / (2 * CAST(delivered + failed AS double))) / 10000
       END AS delivery_rate
FROM (
  SELECT countrycode AS country_code,
         count(*) AS receipts,
         count_if(reportstatus = 'SUCCESS') AS delivered,
         count_if(reportstatus = 'FAIL') AS failed
  FROM delivery_statuses
  WHERE dt BETWEEN date_format(from_unixtime(?), '%Y-%m-%d') AND date_format(from_unixtime(? - 1), '%Y-%m-%d')
    AND userreceivetime >= ? AND userreceivetime < ?
  GROUP BY countrycode
) AS countries
ORDER BY receipts DESC, country_code
