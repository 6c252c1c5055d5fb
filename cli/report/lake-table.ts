/**
 * The Glue table `delivery_statuses` (serverless.yml, DeliveryStatusesTable) in DuckDB: its lower-case
 * columns and types, each read from the JSON key the table's SerDe maps it from, and `dt` from the
 * object's `dt=` folder as partition projection gives it.
 */
export const GLUE_COLUMNS: ReadonlyArray<{ column: string; key: string; type: 'VARCHAR' | 'BIGINT' }> = [
  { column: 'serialno', key: 'serialNo', type: 'VARCHAR' },
  { column: 'phonenumber', key: 'phoneNumber', type: 'VARCHAR' },
  { column: 'countrycode', key: 'countryCode', type: 'VARCHAR' },
  { column: 'subscribernumber', key: 'subscriberNumber', type: 'VARCHAR' },
  { column: 'reportstatus', key: 'reportStatus', type: 'VARCHAR' },
  { column: 'description', key: 'description', type: 'VARCHAR' },
  { column: 'userreceivetime', key: 'userReceiveTime', type: 'BIGINT' },
  { column: 'sdkappid', key: 'sdkAppId', type: 'VARCHAR' },
];

const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * The table loaded once from the day objects' files (gzip JSON Lines under `dt=<day>/` folders), so the
 * five queries read columns instead of parsing the JSON five times. Without files, the same table empty.
 * Beside the Glue columns, `source_file` keeps each row's file, for NOT_A_RECEIPT to name.
 */
export function createLakeTable(files: readonly string[]): string {
  if (files.length === 0) {
    const columns = GLUE_COLUMNS.map(({ column, type }) => `${column} ${type}`).join(', ');
    return `CREATE TABLE delivery_statuses (${columns}, dt VARCHAR, source_file VARCHAR)`;
  }
  const keys = GLUE_COLUMNS.map(({ key, type }) => `${JSON.stringify(key)}: ${literal(type)}`).join(', ');
  const select = GLUE_COLUMNS.map(({ column, key }) => `${JSON.stringify(key)} AS ${column}`).join(', ');
  return `CREATE TABLE delivery_statuses AS
    SELECT ${select}, dt, filename AS source_file
    FROM read_json([${files.map(literal).join(', ')}],
      format = 'newline_delimited', compression = 'gzip', filename = true,
      hive_partitioning = true, hive_types = {'dt': 'VARCHAR'},
      columns = {${keys}})`;
}

/**
 * The file of a line that is JSON but no receipt (`null`, `{}`, a record without its serial number or
 * receive time): DuckDB reads such a line as a row of NULLs, which every window would leave out unseen.
 */
export const NOT_A_RECEIPT = 'SELECT source_file FROM delivery_statuses WHERE serialno IS NULL OR userreceivetime IS NULL LIMIT 1';
