// The chat page at / in headless Chromium, as a person uses it: CTest runs
//   node webui_test.mjs --hy2bit BIN --model GGUF --modules DIR [--screenshot OUT.png]
// It starts `hy2bit serve` on a free loopback port, then types, sends,
// stops, toggles thinking and reads what the page shows. The tiny model's
// replies are noise (random weights); the think block is checked against a
// scripted stream (scripted_server.mjs). Any failed check exits 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startScriptedServer } from './scripted_server.mjs';
import { check, parseArgs, passedChecks, startServe } from '../support/node/harness.mjs';

// ---- waiting on the server -------------------------------------------------------

async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function until(what, predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`FAILED: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- page helpers -----------------------------------------------------------------

const lastReply = (page) => page.locator('.message.assistant').last();
const replyState = (page) => lastReply(page).getAttribute('data-state');

async function waitReplyEnd(page, timeoutMs = 30000) {
  await page.waitForFunction(() => {
    const all = document.querySelectorAll('.message.assistant');
    const last = all[all.length - 1];
    return last && ['done', 'stopped', 'error'].includes(last.dataset.state);
  }, null, { timeout: timeoutMs });
  return replyState(page);
}

// Sends `text` with the Enter key; returns the request body the page POSTed.
async function sendWithEnter(page, text) {
  await page.locator('#prompt').fill(text);
  const request = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions') && r.method() === 'POST');
  await page.locator('#prompt').press('Enter');
  return (await request).postDataJSON();
}

async function setSettings(page, { temperature, maxTokens, systemPrompt, apiKey }) {
  await page.locator('#settings-button').click();
  check(await page.locator('#settings').isVisible(), 'the settings dialog opens');
  if (temperature !== undefined) await page.locator('#temperature').fill(temperature);
  if (maxTokens !== undefined) await page.locator('#max-tokens').fill(maxTokens);
  if (systemPrompt !== undefined) await page.locator('#system-prompt').fill(systemPrompt);
  if (apiKey !== undefined) await page.locator('#api-key').fill(apiKey);
  await page.locator('#settings-close').click();
  check(!(await page.locator('#settings').isVisible()), 'Done closes the settings dialog');
}

const STATS = /^(\d+) tokens · (\d+\.\d) tokens\/s · (\d+\.\d\d) s to first token/;

// ---- the checks against the real server --------------------------------------------

async function testRealServer(page, origin, serverPort) {
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${origin}/`);
  check((await page.title()) === 'hy2bit chat', 'the page loads with its title');
  await until('the model name', async () => (await page.locator('#model-name').textContent()) !== '');
  check((await page.locator('#model-name').textContent()) === 'Hunyuan-tiny-synthetic',
    'the header names the served model (from /v1/models)');
  check(await page.locator('#thinking-toggle').isChecked(), 'thinking is on by default');

  await setSettings(page, { temperature: '0', maxTokens: '300', systemPrompt: 'You are a terse assistant.' });

  // A first reply, checked against what the server sent.
  const responsePromise = page.waitForResponse((r) => r.url().endsWith('/v1/chat/completions'));
  const first = await sendWithEnter(page, 'Hello <b>there</b>');
  check(first.stream === true && first.stream_options?.include_usage === true, 'the page asks for an SSE stream with usage');
  check(first.temperature === 0 && first.max_tokens === 300, 'the settings go into the request',
    JSON.stringify({ t: first.temperature, m: first.max_tokens }));
  check(JSON.stringify(first.messages) === JSON.stringify([
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Hello <b>there</b>' }]), 'the system prompt and the message are sent', JSON.stringify(first.messages));
  check(first.chat_template_kwargs === undefined, 'thinking on sends no enable_thinking override');
  const response = await responsePromise;
  check(response.headers()['content-type'].startsWith('text/event-stream'), 'the reply comes as text/event-stream');
  check((await waitReplyEnd(page)) === 'done', 'the streamed reply finishes');
  const answer1 = await lastReply(page).locator('.answer').textContent();
  check(answer1.length > 0, 'the answer is on screen');
  const userBubble = page.locator('.message.user .bubble').first();
  check((await userBubble.textContent()) === 'Hello <b>there</b>' && (await page.locator('#messages b').count()) === 0,
    'the message is shown as text, not HTML');
  const stats1 = (await lastReply(page).locator('.stats').textContent()) || '';
  const m1 = stats1.match(STATS);
  check(m1 !== null && Number(m1[2]) > 0, 'the reply shows tokens/s', stats1);
  const sse = await response.text();
  const usage = sse.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)))
    .find((c) => c.usage)?.usage;
  check(usage && Number(m1[1]) === usage.completion_tokens, 'the token count matches the server\'s usage',
    `${m1 && m1[1]} vs ${usage && usage.completion_tokens}`);
  check(await lastReply(page).locator('.thinking').isHidden(), 'no think block when the model did not think');

  // Shift+Enter is a new line; Enter then sends a second turn with the history.
  const posts = () => requests.filter((u) => u.endsWith('/v1/chat/completions')).length;
  const before = posts();
  await page.locator('#prompt').fill('line one');
  await page.locator('#prompt').press('Shift+Enter');
  await page.locator('#prompt').pressSequentially('line two');
  check((await page.locator('#prompt').inputValue()) === 'line one\nline two' && posts() === before,
    'Shift+Enter adds a new line and sends nothing');
  await setSettings(page, { maxTokens: '40' });
  const request2 = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
  await page.locator('#prompt').press('Enter');
  const second = (await request2).postDataJSON();
  check(JSON.stringify(second.messages) === JSON.stringify([
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'Hello <b>there</b>' },
    { role: 'assistant', content: answer1 },
    { role: 'user', content: 'line one\nline two' }]), 'the second turn carries the whole conversation');
  const state2 = await waitReplyEnd(page);
  check(state2 === 'done' && (await page.locator('.message').count()) === 4,
    'the second reply finishes below the first');

  // Stop mid-stream: the page aborts the fetch and the server cancels the job.
  await page.locator('#new-chat').click();
  check((await page.locator('.message').count()) === 0, 'New chat clears the conversation');
  await setSettings(page, { maxTokens: '8000' });
  const cancelledBefore = await metric(serverPort, 'hy2bit_requests_cancelled_total');
  await sendWithEnter(page, 'Tell me a very long story.');
  // A streamed reply: the answer is seen growing, render after render, while the reply is still streaming.
  const growth = await page.waitForFunction(() => {
    const reply = document.querySelector('.message.assistant');
    const n = reply ? reply.querySelector('.answer').textContent.length : 0;
    if (!reply || reply.dataset.state !== 'streaming' || n === 0) return false;
    window.seenLengths = window.seenLengths || [];
    if (window.seenLengths.at(-1) !== n) window.seenLengths.push(n);
    return window.seenLengths.length >= 4 ? window.seenLengths : false;
  }, null, { timeout: 20000, polling: 'raf' });
  console.log(`  (lengths seen while streaming: ${JSON.stringify(await growth.jsonValue())})`);
  check(true, 'the answer grows on screen while the reply streams');
  check(await page.locator('#stop').isVisible() && await page.locator('#send').isHidden(),
    'while streaming, Stop replaces Send');
  await page.locator('#stop').click();
  check((await waitReplyEnd(page, 10000)) === 'stopped', 'Stop ends the reply');
  const stats2 = (await lastReply(page).locator('.stats').textContent()) || '';
  const m2 = stats2.match(STATS);
  check(m2 !== null && Number(m2[1]) < 8000 && stats2.endsWith(' · stopped'), 'a stopped reply shows its tokens/s and "stopped"', stats2);
  await until('the server to cancel the job', async () =>
    (await metric(serverPort, 'hy2bit_requests_cancelled_total')) === cancelledBefore + 1);
  check(true, 'the server saw the client go away (requests_cancelled + 1)');
  check(await page.locator('#send').isVisible(), 'Send is back after stopping');
  await sendWithEnter(page, 'Another long story.');
  await page.waitForFunction(() => {
    const replies = document.querySelectorAll('.message.assistant');
    return replies.length === 2 && replies[1].querySelector('.answer').textContent.length > 0;
  });
  await page.locator('#prompt').press('Escape');
  check((await waitReplyEnd(page, 10000)) === 'stopped', 'Esc in the message box stops a reply too');
  await sendWithEnter(page, 'A third long story.');
  await page.waitForFunction(() => {
    const replies = document.querySelectorAll('.message.assistant');
    return replies.length === 3 && replies[2].querySelector('.answer').textContent.length > 0;
  });
  await page.locator('#new-chat').click();
  check((await page.locator('.message').count()) === 0 && await page.locator('#send').isVisible(),
    'New chat during a reply stops it and clears the page');

  // Thinking off: the request says so; with one slot, this also shows the slot was freed.
  await page.locator('.switch').click();
  check(!(await page.locator('#thinking-toggle').isChecked()), 'the thinking switch turns off');
  await setSettings(page, { maxTokens: '30' });
  const off = await sendWithEnter(page, 'No thinking, please.');
  check(off.chat_template_kwargs?.enable_thinking === false, 'thinking off sends chat_template_kwargs.enable_thinking = false');
  check(JSON.stringify(off.messages) === JSON.stringify([
    { role: 'system', content: 'You are a terse assistant.' }, { role: 'user', content: 'No thinking, please.' }]),
  'after New chat the history starts afresh', JSON.stringify(off.messages).slice(0, 300));
  check((await waitReplyEnd(page)) === 'done', 'the server answers after the stopped reply (its slot was freed)');

  // A request the server refuses: its message is shown and the text comes back.
  const long = 'word '.repeat(9000);  // more tokens than the context holds
  await sendWithEnter(page, long);
  check((await waitReplyEnd(page)) === 'error', 'a refused request ends in an error');
  const errorText = await lastReply(page).locator('.error-text').textContent();
  check(/context/.test(errorText), 'the server\'s error message is shown', errorText);
  check((await page.locator('#prompt').inputValue()) === long, 'the refused message is back in the box');
  await page.locator('#prompt').fill('');

  // Settings and the switch survive a reload.
  await page.reload();
  await page.locator('#settings-button').click();
  check((await page.locator('#temperature').inputValue()) === '0' && (await page.locator('#max-tokens').inputValue()) === '30' &&
    (await page.locator('#system-prompt').inputValue()) === 'You are a terse assistant.', 'settings persist across a reload');
  await page.locator('#settings-close').click();
  check(!(await page.locator('#thinking-toggle').isChecked()), 'the thinking switch persists across a reload');
  check(requests.every((u) => u.startsWith(origin)), 'the page fetched nothing from anywhere else',
    requests.filter((u) => !u.startsWith(origin)).join(' '));
}

// ---- the think block, against a scripted stream ---------------------------------------

const REASONING = ['The user asks ', 'for 6 × 7. ', '<i>Six sevens</i> ', 'make 42.'];
const ANSWER = ['6 × 7 = 42. ', '<img src=x onerror="window.pwned=1">'];

function scriptFor(body) {
  const thinking = body.chat_template_kwargs?.enable_thinking !== false;
  return { reasoning: thinking ? REASONING : [], answer: ANSWER };
}

async function testThinkBlock(page, origin, scripted) {
  await page.goto(`${origin}/`);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  check(await page.locator('#thinking-toggle').isChecked(), 'thinking is on (fresh settings)');
  await page.evaluate(() => {
    window.sawThinkingOpen = false;
    new MutationObserver(() => {
      const t = document.querySelector('.message.assistant:last-child .thinking');
      if (t && !t.hidden && t.open && t.querySelector('.thinking-text').textContent !== '') window.sawThinkingOpen = true;
    }).observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await sendWithEnter(page, 'What is 6 x 7?');
  check((await waitReplyEnd(page)) === 'done', 'the scripted reply finishes');
  const reply = lastReply(page);
  const think = reply.locator('.thinking');
  check(await page.evaluate(() => window.sawThinkingOpen), 'the thinking streamed into an open block');
  check(await think.isVisible(), 'the think block is shown');
  check((await think.locator('.thinking-text').textContent()) === REASONING.join(''), 'it holds the reasoning, as text');
  check((await reply.locator('.answer').textContent()) === ANSWER.join(''), 'the answer is apart from the reasoning');
  check((await page.locator('#messages img, #messages i').count()) === 0 && !(await page.evaluate(() => window.pwned)),
    'model text with HTML in it is shown, never run');
  check(/^Thought for \d+\.\d s$/.test(await think.locator('summary').textContent()) &&
    !(await think.evaluate((d) => d.open)), 'once the answer starts, the block folds to "Thought for N s"');
  await think.locator('summary').click();
  check(await think.evaluate((d) => d.open) && await think.locator('.thinking-text').isVisible(), 'a click opens it again');
  const stats = await reply.locator('.stats').textContent();
  check(STATS.test(stats) && stats.startsWith(`${REASONING.length + ANSWER.length} tokens`), 'tokens/s counts thinking and answer tokens', stats);

  await page.locator('.switch').click();
  await setSettings(page, { apiKey: 'page-key' });
  const withKey = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
  const seenBefore = scripted.requests.length;
  await sendWithEnter(page, 'And 7 x 8?');
  check((await withKey).headers().authorization === 'Bearer page-key', 'the API key from Settings goes in the Authorization header');
  // The page has sent it; the scripted server may not have read it yet.
  await until('the scripted server reads the request', () => scripted.requests.length > seenBefore);
  check(scripted.requests.at(-1).chat_template_kwargs?.enable_thinking === false, 'switching thinking off changes the request');
  check((await waitReplyEnd(page)) === 'done' && await lastReply(page).locator('.thinking').isHidden(),
    'with thinking off there is no think block');
  check(scripted.requests.at(-1).messages.find((m) => m.role === 'assistant').content === ANSWER.join(''),
    'the history sends back the answer without the thinking');
}

// `hy2bit serve --no-webui`: no page, a 404 that says why, the API still there.
async function testNoWebui(args) {
  const serve = await startServe(args.hy2bit, args.model, ['--no-webui']);
  try {
    const root = await fetch(`http://127.0.0.1:${serve.port}/`);
    const body = await root.json();
    check(root.status === 404 && /--no-webui/.test(body.error?.message), '--no-webui: / is a 404 that names the flag',
      JSON.stringify(body));
    check((await fetch(`http://127.0.0.1:${serve.port}/webui/app.js`)).status === 404, '--no-webui: no page files');
    check((await fetch(`http://127.0.0.1:${serve.port}/v1/models`)).status === 200, '--no-webui: the API still answers');
  } finally {
    serve.process.kill('SIGTERM');
  }
}

// A picture for the README (--screenshot): scripted replies (the test models
// only make noise), streamed at about 40 tokens/s, light theme.
const words = (text) => text.split(/(?<= )/);
const PICTURE = [
  {
    prompt: 'Write a haiku about running a language model on a laptop.',
    reasoning: words('A haiku has 5, 7 and 5 syllables. Something small and quiet: the fan, words appearing one at a time, and the model squeezed into very few bits.'),
    answer: words('Fan hums, soft and low —\nwords arrive one at a time,\na mind in two bits.'),
  },
  {
    prompt: 'Why two bits?',
    reasoning: words('They mean the weights. Each weight is one of four values, so the file is about an eighth of the 16-bit size, and decoding on a CPU is limited by memory reads.'),
    answer: words('Each weight is stored in 2 bits, one of four values, so the model needs about an eighth of the memory of its 16-bit original. Generating text on a CPU is mostly waiting for memory, so smaller weights mean faster replies.'),
  },
];

async function takeScreenshot(browser, upstreamPort, out) {
  const scene = await startScriptedServer({
    upstreamPort,
    tokenDelayMs: 25,
    script: (body) => PICTURE.find((p) => p.prompt === body.messages.at(-1).content),
  });
  const page = await browser.newPage();
  try {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 900, height: 700 });
    await page.goto(`http://127.0.0.1:${scene.port}/`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    for (const turn of PICTURE) {
      await sendWithEnter(page, turn.prompt);
      await waitReplyEnd(page);
    }
    await lastReply(page).locator('.thinking summary').click();  // the last thought, open
    await page.locator('#prompt').blur();
    await page.evaluate(() => { document.getElementById('conversation').scrollTop = 1e6; });
    await page.screenshot({ path: out });
  } finally {
    await page.close();
    await scene.close();
  }
  console.log(`screenshot: ${out}`);
}

// ---- main -------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2), ['hy2bit', 'model', 'modules', 'chromium', 'screenshot'],
    ['hy2bit', 'model', 'modules'], { chromium: '/usr/bin/chromium' });
  const require = createRequire(path.join(path.resolve(args.modules), 'node_modules', 'index.js'));
  const { chromium } = require('playwright-core');
  if (!fs.existsSync(args.chromium)) throw new Error(`no Chromium at ${args.chromium}: run scripts/setup.sh`);

  const started = Date.now();
  // One slot: the request after a stopped one only runs if the stop freed it.
  const serve = await startServe(args.hy2bit, args.model, ['--parallel', '1', '-c', '8192']);
  const origin = `http://127.0.0.1:${serve.port}`;
  const scripted = await startScriptedServer({ upstreamPort: serve.port, script: scriptFor, tokenDelayMs: 40 });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hy2bit-webui-'));
  let browser = null;
  let page = null;
  try {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: args.chromium,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1000, height: 720 },
    });
    page = browser.pages()[0] || await browser.newPage();
    page.setDefaultTimeout(20000);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (msg) => {
      // The refused request's 400 is logged by Chromium itself; anything else is a bug.
      if (msg.type() === 'error' && !/status of 400/.test(msg.text())) pageErrors.push(msg.text());
    });

    await testRealServer(page, origin, serve.port);
    await testThinkBlock(page, `http://127.0.0.1:${scripted.port}`, scripted);
    check(pageErrors.length === 0, 'no script errors on the page', pageErrors.join(' | '));
    await testNoWebui(args);
    if (args.screenshot) await takeScreenshot(browser, serve.port, args.screenshot);
  } catch (err) {
    if (page) {
      const shot = path.join(path.resolve(args.modules), 'failure.png');
      await page.screenshot({ path: shot }).catch(() => {});
      console.error(`the page at the failure: ${shot}`);
    }
    throw err;
  } finally {
    if (browser) await browser.close();
    await scripted.close();
    serve.process.kill('SIGTERM');
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`${passedChecks()} passed, 0 failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((err) => {
  console.error(err.message || err);
  console.log(`${passedChecks()} passed, 1 failed`);
  process.exit(1);
});
