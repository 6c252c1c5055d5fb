// Tencent allows 20 PullSmsSendStatusByPhoneNumber requests/second per account. The total and each
// function's share are set here, once; serverless.yml reads the derived values. Each instance paces
// itself to share ÷ reservedConcurrency, so the sum over every instance that can run is ≤ the total.
const TOTAL_RPS = 20;

// The export runs one instance at a time: its writes merge into shared day objects (read, union,
// write), and two instances merging the same object at once would lose one side's receipts.
const functions = {
  lookup: { share: 8, reservedConcurrency: 2 },
  export: { share: 12, reservedConcurrency: 1 },
};

const shares = Object.values(functions).reduce((sum, f) => sum + f.share, 0);
if (shares > TOTAL_RPS) throw new Error(`config/budget.cjs: shares add up to ${shares} req/s, over ${TOTAL_RPS}`);

const budget = { total: TOTAL_RPS };
for (const [name, f] of Object.entries(functions)) {
  budget[name] = { ...f, perInstance: f.share / f.reservedConcurrency };
}

module.exports = budget;
