-- Delivery report, numbers failing repeatedly: the numbers with 3 or more FAIL receipts in the window
-- [begin, end) (unix seconds, UTC), by failures descending then number, at most 100, each with the
-- userreceivetime of its last failure.
-- Execution parameters, in this order: begin, end, begin, end.
SELECT phonenumber AS phone_number,
       count(*) AS failures,
       max(userreceivetime) AS last_failure_time
FROM delivery_statuses
WHERE dt BETWEEN date_format(from_unixtime(?), '%Y-%m-%d') AND date_format(from_unixtime(? - 1), '%Y-%m-%d')
  AND userreceivetime >= ? AND userreceivetime < ?
  AND reportstatus = 'FAIL'
GROUP BY phonenumber
HAVING count(*) >= 3
ORDER BY failures DESC, phone_number
LIMIT 100
