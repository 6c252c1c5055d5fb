// npm run nag: the packaged stack through cdk-nag's Serverless and AwsSolutions packs and aws-cdk-lib's
// CloudFormation validation. Prints every finding not accepted in scripts/nag/accepted.yml and every
// acceptance that matched nothing, then the count by rule; exits 1 on any of either.
// `npm run nag -- --template <file>` checks that template instead of packaging the stack.
import { parseArgs } from 'node:util';
import { judge, readAccepted, type Judgement } from './accepted.ts';
import { findingsOf, type Finding } from './findings.ts';
import { packageForNag } from './package.ts';

const { values } = parseArgs({ options: { template: { type: 'string' } } });
const template = values.template ?? (await packageForNag());
const judgement = judge(findingsOf(template), await readAccepted());
print(judgement);
process.exitCode = judgement.open.length > 0 || judgement.stale.length > 0 ? 1 : 0;

function print({ accepted, open, stale }: Judgement): void {
  for (const f of open) console.log(`OPEN   ${f.rule}  ${f.resource}\n       ${f.message.split('\n')[0]}`);
  for (const a of stale) console.log(`STALE  ${a.rule}  ${a.resource}: accepted, but no such finding any more`);
  // By rule, an IAM5 finding's resource left out: `AwsSolutions-IAM5[Resource::*]` counts as AwsSolutions-IAM5.
  const base = (f: Finding) => f.rule.replace(/\[.*$/, '');
  console.log('\nrule | findings | accepted | open');
  const rules = [...new Set([...accepted, ...open].map(base))].sort();
  const count = (list: Finding[], rule: string) => list.filter((f) => base(f) === rule).length;
  for (const rule of rules) {
    const [a, o] = [count(accepted, rule), count(open, rule)];
    console.log(`${rule} | ${a + o} | ${a} | ${o}`);
  }
  const total = accepted.length + open.length;
  console.log(
    `\n${total} findings: ${accepted.length} accepted, ${open.length} open; ${stale.length} stale acceptances`,
  );
}
