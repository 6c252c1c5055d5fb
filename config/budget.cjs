// Tencent allows 20 PullSmsSendStatusByPhoneNumber requests/second per account. A deployment's total
// is TENCENT_RPS_TOTAL (params.tencentRpsTotal in serverless.yml; 20 by default): stages that share
// one Tencent account must split the 20 between them (e.g. 15 for prod and 5 for dev). Each function
// gets its share of the total, as set here, once; serverless.yml reads the derived values. Each
// instance paces itself to share ÷ reservedConcurrency, so the sum over every instance that can run
// is ≤ the total.
const ACCOUNT_LIMIT = 20;
/** The smallest TENCENT_RPS_BUDGET the functions accept (lib/config.ts). */
const MIN_PER_INSTANCE = 0.1;

// Shares are weights out of their sum: the lookup gets 8/20 of the total, the export 12/20.
// The export runs one instance at a time, so its whole share goes to one pacer. Its merges are
// conditional writes (docs/lake.md), so a second writer (the CLI, more instances) loses nothing.
const functions = {
  lookup: { weight: 8, reservedConcurrency: 2 },
  export: { weight: 12, reservedConcurrency: 1 },
};

/** An error Serverless prints as its message alone (it prints a thrown error's stack). */
function configError(message) {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}

function parseTotal(raw) {
  const text = raw === undefined || raw === null ? '' : String(raw).trim();
  const total = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(total > 0 && total <= ACCOUNT_LIMIT)) {
    throw configError(
      `TENCENT_RPS_TOTAL must be a number of requests/second greater than 0 and at most ${ACCOUNT_LIMIT} (Tencent's limit per account), got ${JSON.stringify(text)}`,
    );
  }
  return total;
}

/** Rounds down to a thousandth, so rounding never adds to the total. */
function floorMilli(x) {
  return Math.floor(x * 1000 + 1e-9) / 1000;
}

function budgetFor(total) {
  const weights = Object.values(functions).reduce((sum, f) => sum + f.weight, 0);
  const budget = { total };
  let sum = 0;
  for (const [name, f] of Object.entries(functions)) {
    const perInstance = floorMilli((total * f.weight) / weights / f.reservedConcurrency);
    if (perInstance < MIN_PER_INSTANCE) {
      throw configError(
        `TENCENT_RPS_TOTAL=${total} leaves each ${name} instance ${perInstance} requests/second, under the ${MIN_PER_INSTANCE} the functions accept; set TENCENT_RPS_TOTAL to at least 0.5`,
      );
    }
    const share = floorMilli(perInstance * f.reservedConcurrency);
    sum += share;
    budget[name] = {
      share,
      reservedConcurrency: f.reservedConcurrency,
      perInstance,
      // API Gateway's burst is a whole number of requests, and at least one must get through.
      burst: Math.max(1, Math.floor(share)),
    };
  }
  if (sum > total + 1e-9) throw configError(`config/budget.cjs: shares add up to ${sum} req/s, over TENCENT_RPS_TOTAL=${total}`);
  return budget;
}

module.exports = async ({ resolveVariable }) => budgetFor(parseTotal(await resolveVariable('param:tencentRpsTotal')));
module.exports.budgetFor = budgetFor;
module.exports.parseTotal = parseTotal;
