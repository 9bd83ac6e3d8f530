'use strict';
// A plain Node.js implementation of ingress's Twilio message status webhook, as a peer for
// bench-webhook (see README.md): Express, the twilio package's validateRequest, Redis
// `SET key 1 NX EX ttl` dedupe, a kafkajs idempotent producer (acks=all), 204 only after Kafka's
// acknowledgement. One worker process per core (node:cluster).
//
// Configuration (environment):
//   PEER_LISTEN        host:port to listen on                     [127.0.0.1:8090]
//   PEER_PUBLIC_URL    base URL Twilio signs (scheme://host[:port][/prefix])  [http://PEER_LISTEN]
//   PEER_AUTH_TOKEN    Twilio auth token                          [sandbox-token]
//   PEER_REDIS_URL     redis://host:port/db                       [redis://127.0.0.1:6379/0]
//   PEER_REDIS_PREFIX  prefix of the dedupe keys                  [node:]
//   PEER_KAFKA_BROKERS comma-separated host:port                  [127.0.0.1:9092]
//   PEER_TOPIC         topic the events go to                     [node.klaxon.twilio.events]
//   PEER_DEDUPE_TTL_S  dedupe window in seconds                   [172800, ingress's 48 h]
//   PEER_PUBLISH_TIMEOUT_MS  how long a publish may take before 503  [5000, ingress's]
//   PEER_WORKERS       worker processes                           [os.availableParallelism()]
//   PEER_BATCH         0: one producer.send per request (the default, the plain way); 1: the
//                      requests waiting while a send is in flight share the next one

const cluster = require('node:cluster');
const os = require('node:os');

const env = (name, fallback) => process.env[name] ?? fallback;
const LISTEN = env('PEER_LISTEN', '127.0.0.1:8090');
const [HOST, PORT] = (() => {
  const colon = LISTEN.lastIndexOf(':');
  return [LISTEN.slice(0, colon), Number(LISTEN.slice(colon + 1))];
})();
const PUBLIC_URL = env('PEER_PUBLIC_URL', `http://${LISTEN}`).replace(/\/$/, '');
const AUTH_TOKEN = env('PEER_AUTH_TOKEN', 'sandbox-token');
const REDIS_URL = env('PEER_REDIS_URL', 'redis://127.0.0.1:6379/0');
const REDIS_PREFIX = env('PEER_REDIS_PREFIX', 'node:');
const BROKERS = env('PEER_KAFKA_BROKERS', '127.0.0.1:9092').split(',').filter(Boolean);
const TOPIC = env('PEER_TOPIC', 'node.klaxon.twilio.events');
const DEDUPE_TTL_S = Number(env('PEER_DEDUPE_TTL_S', String(48 * 3600)));
const PUBLISH_TIMEOUT_MS = Number(env('PEER_PUBLISH_TIMEOUT_MS', '5000'));
const WORKERS = Number(env('PEER_WORKERS', String(os.availableParallelism())));
const BATCH = env('PEER_BATCH', '0') === '1';

const STATUS_PATH = '/twilio/messages/status';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const WHOLE = /^[0-9]+$/;

function log(event, fields = {}) {
  process.stderr.write(
    JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, event, ...fields }) + '\n');
}

if (cluster.isPrimary) {
  runPrimary();
} else {
  runWorker().catch((err) => {
    log('worker_failed', { error: String(err && err.stack || err) });
    process.exit(1);
  });
}

function runPrimary() {
  log('starting', { workers: WORKERS, listen: LISTEN, public_url: PUBLIC_URL, topic: TOPIC,
                    batch: BATCH });
  let listening = 0;
  let stopping = false;
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('listening', () => {
    if (++listening === WORKERS) log('ready', { workers: WORKERS, listen: LISTEN });
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      log('worker_exited', { worker: worker.process.pid, code, signal });
      stopping = true;
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
      process.exitCode = 1;
    }
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function runWorker() {
  const express = require('express');
  const twilio = require('twilio');
  const { createClient } = require('redis');
  const { Kafka, Partitioners, logLevel } = require('kafkajs');

  const redis = createClient({ url: REDIS_URL });
  redis.on('error', (err) => log('redis_error', { error: String(err) }));
  await redis.connect();

  const kafka = new Kafka({ clientId: 'node-webhook-peer', brokers: BROKERS,
                            logLevel: logLevel.WARN });
  // idempotent: true makes kafkajs require acks -1 (all); each send below also asks for it.
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false,
                                    createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const publish = BATCH ? coalescingPublisher(producer) : (message) =>
    producer.send({ topic: TOPIC, acks: -1, timeout: PUBLISH_TIMEOUT_MS, messages: [message] });

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.get('/healthz', (req, res) => res.status(200).send('ok\n'));
  app.post(STATUS_PATH, express.urlencoded({ extended: false, limit: '64kb' }),
           (req, res) => handleStatus(req, res).catch((err) => {
             log('handler_failed', { error: String(err) });
             if (!res.headersSent) res.status(500).end();
           }));
  app.all(STATUS_PATH, (req, res) => res.status(405).set('Allow', 'POST').end());
  app.use((req, res) => res.status(404).type('text/plain').send('no such webhook route\n'));

  async function handleStatus(req, res) {
    if (!req.is('application/x-www-form-urlencoded')) {
      return res.status(415).type('text/plain').send(
        'Content-Type must be application/x-www-form-urlencoded\n');
    }
    const params = req.body ?? {};
    // The URL Twilio requested: the configured public base plus the request-target as received.
    const url = PUBLIC_URL + req.originalUrl;
    if (!twilio.validateRequest(AUTH_TOKEN, req.get('X-Twilio-Signature') ?? '', url, params)) {
      return res.status(403).type('text/plain').send('forbidden\n');
    }
    const sid = params.MessageSid;
    const status = params.MessageStatus;
    if (typeof sid !== 'string' || sid === '') return bad(res, 'MessageSid is required');
    if (typeof status !== 'string' || status === '') return bad(res, 'MessageStatus is required');
    const errorCode = params.ErrorCode ?? '';
    if (errorCode !== '' && !(WHOLE.test(errorCode) && Number(errorCode) <= 2147483647)) {
      return bad(res, 'ErrorCode must be a whole number');
    }
    const alertId = req.query.alert_id;
    let attempt = 1;
    if (alertId !== undefined) {
      if (typeof alertId !== 'string' || !UUID.test(alertId)) {
        return bad(res, 'alert_id in the URL must be a UUID');
      }
      const a = req.query.attempt;
      if (a !== undefined && a !== '') {
        if (typeof a !== 'string' || !WHOLE.test(a) || Number(a) > 4294967295) {
          return bad(res, 'attempt must be a whole number');
        }
        attempt = Number(a) || 1;
      }
    }

    // ingress's identity of a callback: its idempotency token, else SID, status and sequence.
    const token = req.get('I-Twilio-Idempotency-Token');
    const dedupeKey = token ? `token:${token}` : `sid:${sid}:${status}:0`;
    const redisKey = `${REDIS_PREFIX}twilio-callback:${dedupeKey}`;
    let claimed;
    try {
      claimed = await redis.set(redisKey, '1',
                                { condition: 'NX', expiration: { type: 'EX', value: DEDUPE_TTL_S } });
    } catch (err) {
      return unavailable(res, 'dedupe_unavailable', err);
    }
    if (claimed === null) return res.status(204).end();  // a replay: already published

    const event = {
      header: { alert_id: alertId ?? '', attempt: alertId ? attempt : 0, channel: 'CHANNEL_SMS',
                occurred_at: new Date().toISOString() },
      dedupe_key: dedupeKey,
      message_status: { message_sid: sid, account_sid: params.AccountSid ?? '',
                        message_status: status, error_code: errorCode === '' ? 0 : Number(errorCode) },
    };
    try {
      await publish({ key: alertId || sid, value: JSON.stringify(event) });
    } catch (err) {
      // Let Twilio's retry publish it.
      await redis.del(redisKey).catch(() => {});
      return unavailable(res, 'kafka_unavailable', err);
    }
    return res.status(204).end();
  }

  function bad(res, message) {
    return res.status(400).type('text/plain').send(message + '\n');
  }

  function unavailable(res, label, err) {
    log(label, { error: String(err) });
    return res.status(503).set('Retry-After', '1').type('text/plain')
      .send('cannot keep this event right now; retry\n');
  }

  // PEER_BATCH=1: group commit. At most one producer.send in flight per worker (kafkajs's
  // idempotent producer allows only one produce request per broker at a time anyway); the
  // messages of every request that arrives meanwhile go out together in the next send. Each
  // request still answers only after the send carrying its message is acknowledged.
  function coalescingPublisher(producer) {
    let queue = [];
    let sending = false;
    const flush = () => {
      const batch = queue;
      queue = [];
      sending = true;
      producer.send({ topic: TOPIC, acks: -1, timeout: PUBLISH_TIMEOUT_MS,
                      messages: batch.map((p) => p.message) })
        .then(() => batch.forEach((p) => p.resolve()),
              (err) => batch.forEach((p) => p.reject(err)))
        .finally(() => {
          sending = false;
          if (queue.length > 0) flush();
        });
    };
    return (message) => new Promise((resolve, reject) => {
      queue.push({ message, resolve, reject });
      // The first message after a pause waits for the requests already read in this turn of the
      // event loop, not for a timer.
      if (!sending && queue.length === 1) {
        setImmediate(() => { if (!sending && queue.length > 0) flush(); });
      }
    });
  }

  const server = app.listen(PORT, HOST);
  server.keepAliveTimeout = 30_000;  // ingress's KLAXON_WEBHOOK_IDLE_TIMEOUT default
  server.headersTimeout = 35_000;

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    server.close(async () => {
      await producer.disconnect().catch(() => {});
      await redis.quit().catch(() => {});
      process.exit(0);
    });
    server.closeIdleConnections?.();
    setTimeout(() => process.exit(0), 5000).unref();
  });
  process.on('SIGINT', () => {});  // the primary decides
}
