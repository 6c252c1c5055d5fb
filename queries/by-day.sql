-- Delivery report, by day: each UTC day of userreceivetime with receipts in the window [begin, end)
-- (unix seconds), ascending, with its receipts, delivered (SUCCESS), failed (FAIL) and delivery rate.
-- Execution parameters, in this order: begin, end, begin, end.
-- delivery_rate = delivered / (delivered + failed) rounded half up to 4 decimals, NULL with neither:
-- floor((20000 d + t) / (2 t)) / 10000 over whole numbers held exactly in doubles (t = d + f).
SELECT day,
       receipts,
       delivered,
       failed,
       CASE WHEN delivered + failed > 0
            THEN floor((20000 * CAST(delivered AS double) + (delivered + failed))
                       / (2 * CAST(delivered + failed AS double))) / 10000
       END AS delivery_rate
FROM (
  SELECT date_format(from_unixtime(userreceivetime), '%Y-%m-%d') AS day,
         count(*) AS receipts,
         count_if(reportstatus = 'SUCCESS') AS delivered,
         count_if(reportstatus = 'FAIL') AS failed
  FROM delivery_statuses
  WHERE dt BETWEEN date_format(from_unixtime(?), '%Y-%m-%d') AND date_format(from_unixtime(? - 1), '%Y-%m-%d')
    AND userreceivetime >= ? AND userreceivetime < ?
  GROUP BY date_format(from_unixtime(userreceivetime), '%Y-%m-%d')
) AS days
ORDER BY day
