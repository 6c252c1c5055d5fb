// API Gateway's own answers as the deployed stack gives them, read from their one definition:
// resources/edge.yml (the gateway responses) and config/lookup-auth.cjs (the usage plan's throttle) with
// config/budget.cjs's numbers.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parse } from 'yaml';

/** The answers the local edge gives itself; each is API Gateway's response type of the same name. */
export type ResponseType = 'INVALID_API_KEY' | 'MISSING_AUTHENTICATION_TOKEN' | 'THROTTLED';
const RENDERED: ResponseType[] = ['INVALID_API_KEY', 'MISSING_AUTHENTICATION_TOKEN', 'THROTTLED'];

/** What API Gateway puts in `$context.error.messageString` for each (its default messages). */
const MESSAGES: Record<ResponseType, string> = {
  INVALID_API_KEY: 'Forbidden',
  MISSING_AUTHENTICATION_TOKEN: 'Missing Authentication Token',
  THROTTLED: 'Too Many Requests',
};

export interface GatewayAnswer {
  requestId: string;
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface EdgeDefinition {
  answer(type: ResponseType, requestId: string): GatewayAnswer;
  /** The usage plan's throttle: requests/second and burst, per API key. */
  throttle: { rateLimit: number; burstLimit: number };
}

interface Budget {
  budgetFor(total: number): unknown;
  parseTotal(raw: unknown): number;
}

const EDGE_YML = new URL('../../resources/edge.yml', import.meta.url);
const budgetModule = createRequire(import.meta.url)('../../config/budget.cjs') as Budget;

const VARIABLE = /\$\{([^}]*)\}/g;

/** `${self:custom.budget.…}` as Serverless resolves it; any other variable is not known here. */
function budgetValue(whole: string, name: string, budget: unknown): number | string {
  const path = /^self:custom\.budget\.([\w.]+)$/.exec(name)?.[1];
  const value = path?.split('.').reduce<any>((at, key) => at?.[key], budget);
  if (value === undefined || typeof value === 'object') {
    throw new Error(`local edge: cannot resolve ${whole} in resources/edge.yml`);
  }
  return value;
}

/** Every string of the parsed file resolved; a value that is one variable keeps its type, as in Serverless. */
function resolveVariables(node: unknown, budget: unknown): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(node);
    if (whole) return budgetValue(node, whole[1] as string, budget);
    return node.replace(VARIABLE, (match, name: string) => String(budgetValue(match, name, budget)));
  }
  if (Array.isArray(node)) return node.map((item) => resolveVariables(item, budget));
  if (typeof node === 'object' && node !== null) {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolveVariables(value, budget)]));
  }
  return node;
}

/** `'no-store'` → no-store: the only kind of header value the edge's responses use (a static one). */
function staticHeader(name: string, value: string): string {
  const quoted = /^'(.*)'$/.exec(value);
  if (!quoted) throw new Error(`local edge: ${name} in resources/edge.yml is not a static value`);
  return quoted[1] as string;
}

function render(template: string, requestId: string, message: string): string {
  const body = template
    .replaceAll('$context.requestId', requestId)
    .replaceAll('$context.error.messageString', JSON.stringify(message));
  if (body.includes('$context')) {
    throw new Error(`local edge: resources/edge.yml uses a variable the edge does not render: ${template}`);
  }
  return body;
}

function answerOf(properties: any, type: ResponseType): (requestId: string) => GatewayAnswer {
  const template = properties.ResponseTemplates?.['application/json'];
  if (typeof template !== 'string' || !properties.StatusCode) {
    throw new Error(`local edge: ${type} in resources/edge.yml has no status or JSON template`);
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  for (const [key, value] of Object.entries((properties.ResponseParameters ?? {}) as Record<string, string>)) {
    const name = key.replace(/^gatewayresponse\.header\./, '');
    headers[name] = staticHeader(key, value);
  }
  const statusCode = Number(properties.StatusCode);
  return (requestId) => ({ requestId, statusCode, headers, body: render(template, requestId, MESSAGES[type]) });
}

/** resources/edge.yml at the budget of `TENCENT_RPS_TOTAL` (as a deploy would resolve it). */
export async function loadEdgeDefinition(env: NodeJS.ProcessEnv): Promise<EdgeDefinition> {
  const budget = budgetModule.budgetFor(budgetModule.parseTotal(env.TENCENT_RPS_TOTAL ?? '20'));
  const edge = resolveVariables(parse(await readFile(EDGE_YML, 'utf8')), budget) as any;
  const byType = new Map<string, any>(
    Object.values(edge.Resources as Record<string, any>)
      .filter((r) => r.Type === 'AWS::ApiGateway::GatewayResponse')
      .map((r) => [r.Properties.ResponseType, r.Properties]),
  );
  const answers = new Map(
    RENDERED.map((type) => {
      const properties = byType.get(type);
      if (!properties) throw new Error(`local edge: resources/edge.yml has no ${type} gateway response`);
      return [type, answerOf(properties, type)] as const;
    }),
  );
  // Rendered once now: a template the edge cannot render fails `npm start`, not a request.
  for (const answer of answers.values()) JSON.parse(answer('check').body);
  // The usage plan's throttle, as config/lookup-auth.cjs sets it from the same budget.
  const { rateLimit, burstLimit } = (budget as any).lookup.edge;
  return {
    answer: (type, requestId) => (answers.get(type) as (id: string) => GatewayAnswer)(requestId),
    throttle: { rateLimit: Number(rateLimit), burstLimit: Number(burstLimit) },
  };
}
