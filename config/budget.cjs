// Tencent allows 20 PullSmsSendStatusByPhoneNumber requests/second per account. A deployment's total
// is TENCENT_RPS_TOTAL (params.tencentRpsTotal in serverless.yml; 20 by default): stages that share
// one Tencent account must split the 20 between them (e.g. 15 for prod and 5 for dev). Each function
// gets its share of the total, as set here, once; serverless.yml reads the derived values. Each
// instance paces itself to share ÷ reservedConcurrency, so the sum over every instance that can run
// is ≤ the total.
//
// The lookup's edge (docs/edge.md): the usage plan throttles at the lookup's share, so a caller over it
// gets 429 before a Tencent request is spent; slow lookups that outnumber the instances are throttled by
// Lambda, and resources/edge.yml answers that integration failure 429 with Retry-After as well.
const { TENCENT_RPS_BUDGET, TENCENT_RPS_TOTAL } = require('./defaults.cjs');

const ACCOUNT_LIMIT = TENCENT_RPS_TOTAL.max;
/** The smallest TENCENT_RPS_BUDGET the functions accept (lib/config.ts). */
const MIN_PER_INSTANCE = TENCENT_RPS_BUDGET.min;

/**
 * The pace of one lookup instance: fast enough that an all=true lookup of a busy number (600 receipts,
 * ~10 windows) answers in under 3 s. The lookup's share over this pace is its number of instances.
 */
const LOOKUP_INSTANCE_RPS = 4;
/** Two instances at least: one busy with an all=true pull does not hold every lookup up. */
const LOOKUP_MIN_INSTANCES = 2;
/** Seconds a caller throttled at the edge, or by Lambda's reserved concurrency, is told to wait. */
const RETRY_AFTER_SECONDS = 1;

const functions = {
  lookup: { weight: 8, instanceRps: LOOKUP_INSTANCE_RPS, minInstances: LOOKUP_MIN_INSTANCES },
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

/** A function's reserved concurrency: as set, or one instance per `instanceRps` of its share. */
function instancesFor(f, share) {
  if (f.reservedConcurrency !== undefined) return f.reservedConcurrency;
  return Math.max(f.minInstances, Math.floor(share / f.instanceRps + 1e-9));
}

/**
 * The usage plan's throttle: the lookup's Tencent share, so a caller over it is answered 429 before a
 * request is spent. Concurrency is not rate: slow lookups (all=true, or a slow Tencent) can outnumber
 * the instances at that rate, and Lambda then throttles the extra ones; API Gateway reports that as an
 * integration failure, which resources/edge.yml answers 429 with Retry-After too (docs/edge.md).
 */
function edgeFor(share) {
  return {
    rateLimit: share,
    burstLimit: Math.max(1, Math.floor(share)),
    retryAfterSeconds: Math.max(RETRY_AFTER_SECONDS, Math.ceil(1 / share)),
  };
}

/** The split of `total` req/s. */
function budgetFor(total) {
  const weights = Object.values(functions).reduce((sum, f) => sum + f.weight, 0);
  const budget = { total };
  let sum = 0;
  for (const [name, f] of Object.entries(functions)) {
    const reservedConcurrency = instancesFor(f, (total * f.weight) / weights);
    const perInstance = floorMilli((total * f.weight) / weights / reservedConcurrency);
    if (perInstance < MIN_PER_INSTANCE) {
      throw configError(
        `TENCENT_RPS_TOTAL=${total} leaves each ${name} instance ${perInstance} requests/second, under the ${MIN_PER_INSTANCE} the functions accept; set TENCENT_RPS_TOTAL to at least 0.5`,
      );
    }
    const share = floorMilli(perInstance * reservedConcurrency);
    sum += share;
    budget[name] = { share, reservedConcurrency, perInstance };
  }
  budget.lookup.edge = edgeFor(budget.lookup.share);
  if (sum > total + 1e-9)
    throw configError(`config/budget.cjs: shares add up to ${sum} req/s, over TENCENT_RPS_TOTAL=${total}`);
  return budget;
}

module.exports = async ({ resolveVariable }) => budgetFor(parseTotal(await resolveVariable('param:tencentRpsTotal')));
module.exports.budgetFor = budgetFor;
module.exports.parseTotal = parseTotal;
