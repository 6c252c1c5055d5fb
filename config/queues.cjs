// The stack's SQS queues (serverless.yml `resources`), each through config/secure-queue.cjs: TLS only, and
// a dead-letter queue behind it. A new queue gets its line here; `allow` names who may send to it.
const { secureQueue, FOURTEEN_DAYS } = require('./secure-queue.cjs');

module.exports = {
  Resources: {
    // The on-failure destination of the export's and the inbox's asynchronous invocations (serverless.yml).
    // A person reads its messages, in the console too, and each read is a receive: only a message read
    // 50 times moves on to the dead-letter queue.
    ...secureQueue('ExportFailuresQueue', {
      properties: { MessageRetentionPeriod: FOURTEEN_DAYS },
      maxReceiveCount: 50,
    }),
  },
};
