/**
 * The Glue table `delivery_statuses` (resources/lake.yml, DeliveryStatusesTable) in DuckDB: its lower-case
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

/** The table, empty; the day objects' files are inserted into it batch by batch (`insertFiles`). */
export const CREATE_LAKE_TABLE = `CREATE TABLE delivery_statuses (${GLUE_COLUMNS.map(({ column, type }) => `${column} ${type}`).join(', ')}, dt VARCHAR, source_file VARCHAR)`;

/**
 * Rows from files of gzip JSON Lines under `dt=<day>/` folders: read once into the table, so the five
 * queries read columns instead of parsing the JSON five times. `source_file` keeps each row's file, for
 * NOT_A_RECEIPT to name.
 */
export function insertFiles(files: readonly string[]): string {
  const keys = GLUE_COLUMNS.map(({ key, type }) => `${JSON.stringify(key)}: ${literal(type)}`).join(', ');
  const select = GLUE_COLUMNS.map(({ column, key }) => `${JSON.stringify(key)} AS ${column}`).join(', ');
  return `INSERT INTO delivery_statuses
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
export const NOT_A_RECEIPT =
  'SELECT source_file FROM delivery_statuses WHERE serialno IS NULL OR userreceivetime IS NULL LIMIT 1';
