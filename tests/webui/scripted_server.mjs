// A stand-in for hy2bit serve whose replies are scripted: the test models
// have random weights and never think, so the think block is tested with a
// stream in the server's exact chunk shape (reasoning_content deltas, then
// content, per-token logprobs, usage, [DONE]), sent slowly like a real one.
// Everything but POST /v1/chat/completions is proxied to the real server,
// so the page itself still comes from the binary. Listens on 127.0.0.1 only.
import http from 'node:http';

// SSE text of one reply: `reasoning` and `answer` are lists of token texts.
function* replyEvents({ reasoning, answer }) {
  const meta = { id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 0, model: 'scripted' };
  const chunk = (delta, finish = null, token = null) => ({
    ...meta,
    choices: [{
      index: 0,
      delta,
      logprobs: token === null ? null : { content: [{ token, logprob: -0.5, bytes: [], top_logprobs: [] }] },
      finish_reason: finish,
    }],
  });
  yield chunk({ role: 'assistant', content: '' });
  for (const t of reasoning) yield chunk({ reasoning_content: t }, null, t);
  for (const t of answer) yield chunk({ content: t }, null, t);
  yield chunk({}, 'stop');
  const n = reasoning.length + answer.length;
  yield { ...meta, choices: [], usage: { prompt_tokens: 12, completion_tokens: n, total_tokens: 12 + n } };
}

// Starts the stand-in. `script(requestBody)` returns {reasoning, answer}
// (token lists) for each chat request; `requests` collects the bodies.
export async function startScriptedServer({ upstreamPort, script, tokenDelayMs = 15 }) {
  const requests = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => { body += d; });
      req.on('end', async () => {
        const parsed = JSON.parse(body);
        requests.push(parsed);
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
        let gone = false;
        res.on('close', () => { gone = true; });
        for (const event of replyEvents(script(parsed))) {
          if (gone) return;
          res.write(`data: ${JSON.stringify(event)}\n\n`);
          await new Promise((r) => setTimeout(r, tokenDelayMs));
        }
        res.end('data: [DONE]\n\n');
      });
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${upstreamPort}` } },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      });
    upstream.on('error', (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, requests, close: () => new Promise((r) => server.close(r)) };
}
