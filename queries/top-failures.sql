-- Delivery report, top failures: the 10 most frequent descriptions (carrier codes) of FAIL receipts in
-- the window [begin, end) (unix seconds, UTC), by count descending then description.
-- Execution parameters, in this order: begin, end, begin, end.
SELECT description,
       count(*) AS failures
FROM delivery_statuses
WHERE dt BETWEEN date_format(from_unixtime(?), '%Y-%m-%d') AND date_format(from_unixtime(? - 1), '%Y-%m-%d')
  AND userreceivetime >= ? AND userreceivetime < ?
  AND reportstatus = 'FAIL'
GROUP BY description
ORDER BY failures DESC, description
LIMIT 10
