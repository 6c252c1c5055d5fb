/**
 * One invocation of the inbox drain's Lambda handler (functions/inbox.ts), configured by this process's
 * environment as the Lambda is: the summary as JSON on stdout. Tests run it as a child process so they
 * can kill it (SIGKILL) anywhere, as Lambda kills an invocation that runs out of time.
 */
import type { Context } from 'aws-lambda';
import { handler } from '../../functions/inbox.ts';

const context = {
  functionName: 'sms-status-test-inbox',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:sms-status-test-inbox',
  memoryLimitInMB: '512',
  awsRequestId: `drain-${process.pid}`,
  logGroupName: '/aws/lambda/sms-status-test-inbox',
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 600_000,
} as unknown as Context;

const summary = await handler({}, context);
process.stdout.write(`${JSON.stringify(summary)}\n`);
