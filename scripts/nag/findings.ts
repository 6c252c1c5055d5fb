// The findings of AWS's rule packs over one CloudFormation template: cdk-nag's Serverless and AwsSolutions
// packs over the template loaded with CfnInclude (cdk-nag's README, "Using on CloudFormation templates"), and
// aws-cdk-lib's built-in CloudFormation validation over the file itself, as `cdk synth` would run it.
import { App, BootstraplessSynthesizer, CloudFormationValidatePlugin, Stack } from 'aws-cdk-lib';
import type { IPolicyValidationContext, PolicyValidationPluginReport, PolicyViolatingResource } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

export interface Finding {
  /** `AwsSolutions-IAM5[Resource::*]`, `Serverless-LambdaDLQ`, `CloudFormation-W8003`, … */
  readonly rule: string;
  /** The resource's logical id, or the template path (`Conditions/LakeKmsKey`) of a finding outside Resources. */
  readonly resource: string;
  readonly message: string;
}

const STACK = 'sms-status';

/** Every finding of the three, in the packs' order. */
export function findingsOf(templatePath: string): Finding[] {
  return [...nagFindings(templatePath), ...validationFindings(templatePath)];
}

function nagFindings(templatePath: string): Finding[] {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, STACK, { synthesizer: new BootstraplessSynthesizer() });
  new CfnInclude(stack, 'Template', { templateFile: templatePath });
  // validateScope walks the constructs as they are: the template cannot be synthesized again (the
  // framework writes an empty RestApi Policy, which CDK's property types refuse), and need not be.
  // A violating construct's path ends in the resource's logical id: sms-status/Template/<logical id>.
  return [new ServerlessChecks(), new AwsSolutionsChecks()].flatMap((pack) =>
    flatten(pack.validateScope(stack), (r) => r.constructPath?.split('/').at(-1) ?? ''),
  );
}

function validationFindings(templatePath: string): Finding[] {
  const plugin = new CloudFormationValidatePlugin();
  try {
    const context = { templatePaths: [templatePath], stackTemplates: [{ stackConstructPath: STACK, templatePath }] };
    const report = plugin.validate(context as unknown as IPolicyValidationContext);
    // A finding outside Resources (a condition, a parameter) is named by its place: Conditions/LakeKmsKey.
    const name = (r: PolicyViolatingResource) => r.resourceLogicalId ?? r.locations[0]?.replaceAll('.', '/') ?? '';
    return flatten(report, name).map((f) => ({ ...f, rule: `CloudFormation-${f.rule}` }));
  } finally {
    plugin._dispose();
  }
}

/** One finding per violating resource, named as `name` says. */
function flatten(report: PolicyValidationPluginReport, name: (resource: PolicyViolatingResource) => string): Finding[] {
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      resource: name(resource),
      message: violation.description,
    })),
  );
}
