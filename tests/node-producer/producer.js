// A producer in another language, with nothing but a plain AMQP client (amqplib) and docs/wire-format.md:
// opens a set, sends a file as fixed 1 MiB segments (identity encoding), seals it with a manifest, and waits
// for every reply. Exit 0 once the set is sealed; exit 1 with the vault's reason otherwise.
// Usage: node producer.js AMQP_URI SET_ID FILE
'use strict';
const amqp = require('amqplib');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

async function main() {
  const [uri, setId, file] = process.argv.slice(2);
  const producer = 'node-' + crypto.randomBytes(4).toString('hex');
  const replyQueue = 'vault.reply.' + producer;
  const connection = await amqp.connect(uri);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(replyQueue, { durable: true });

  const waiting = new Map();
  const expect = (key) => new Promise((resolve, reject) => waiting.set(key, { resolve, reject }));
  await channel.consume(replyQueue, (msg) => {
    const reply = JSON.parse(msg.content.toString('utf8'));
    channel.ack(msg);
    const key = reply.type.startsWith('segment-') ? `segment:${reply.sequence}`
      : reply.type === 'segments-present' ? `query:${reply.queryId}` : 'set';
    const waiter = waiting.get(key);
    if (!waiter) return;
    waiting.delete(key);
    if (reply.code) waiter.reject(new Error(`${reply.type} ${reply.code}: ${reply.reason}`));
    else waiter.resolve(reply);
  });

  // Publish to the named exchange (a write-only producer account may not use the default exchange).
  const send = (exchange, body) => new Promise((resolve, reject) =>
    channel.publish(exchange, '', Buffer.from(JSON.stringify({ ...body, replyTo: replyQueue })),
      { contentType: 'application/json', persistent: true }, (err) => (err ? reject(err) : resolve())));

  let reply = expect('set');
  await send('vault.ingest.open', { setId, source: 'node', name: path.basename(file), kind: 'stream' });
  await reply;

  const data = fs.readFileSync(file);
  const segments = [];
  const pending = [];
  for (let offset = 0, sequence = 0; offset < data.length; offset += 1024 * 1024, sequence++) {
    const chunk = data.subarray(offset, Math.min(offset + 1024 * 1024, data.length));
    const sha256 = crypto.createHash('sha256').update(chunk).digest('hex');
    segments.push(sha256);
    pending.push(expect(`segment:${sequence}`));
    await send('vault.ingest.segment', { setId, sequence, sha256, length: chunk.length, encoding: 'identity', data: chunk.toString('base64') });
  }
  await Promise.all(pending);

  const manifest = Buffer.from(JSON.stringify({
    format: 'vault-manifest/v1', setId, kind: 'stream',
    entries: [{ path: '-', type: 'stream', mode: 0, mtime: 0, size: data.length, segments }],
  }));
  reply = expect('set');
  await send('vault.ingest.seal', {
    setId, segmentCount: segments.length, manifestSha256: crypto.createHash('sha256').update(manifest).digest('hex'),
    manifestLength: manifest.length, manifestEncoding: 'identity', manifest: manifest.toString('base64'),
  });
  const sealed = await reply;
  console.log(`sealed ${sealed.setId} ${sealed.sha256}`);
  await channel.close();
  await connection.close();
}

main().catch((err) => { console.error(err.message); process.exit(1); });
