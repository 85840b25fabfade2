// The official npm clients against `hy2bit serve`, as an app would use them:
//   node clients_test.mjs --hy2bit BIN --model GGUF --modules DIR
// starts the server on a free loopback port and runs a scripted conversation
// with the `openai` client (/v1) and the `ollama` client (/api): models,
// chat, streaming, tools, JSON-schema output, errors. The test model's
// weights are random, so replies are checked for shape, counts and
// determinism, not meaning; forced tool calls (openai's tool_choice) and
// schemas make the content checkable. Any failed check exits 1.
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { check, parseArgs, passedChecks, startServe } from '../support/node/harness.mjs';

// ---- checks -------------------------------------------------------------------------

// Resolves with the error a promise rejects with (a check fails if it resolves).
async function rejection(promise, what) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error(`FAILED: ${what} (it succeeded)`);
}

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 20 } }, required: ['city'] },
  },
};
const SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer' } },
  required: ['name', 'age'],
};
function checkSchemaReply(text, what) {
  let value = null;
  try {
    value = JSON.parse(text);
  } catch {
    // checked below
  }
  check(value !== null && typeof value === 'object', `${what}: the reply is a JSON object`, text);
  check(typeof value.name === 'string' && Number.isInteger(value.age), `${what}: it follows the schema`, text);
  check(Object.keys(value).length === 2, `${what}: nothing beyond the schema`, text);
}

// ---- the openai client on /v1 ------------------------------------------------------

async function testOpenAI(OpenAI, base) {
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
  const models = await client.models.list();
  check(models.data.length === 1 && models.data[0].id === 'hy-tiny', 'openai: models.list names the served model');

  const request = { model: 'hy-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, seed: 5 };
  const whole = await client.chat.completions.create(request);
  const choice = whole.choices[0];
  check(choice.message.role === 'assistant' && typeof choice.message.content === 'string', 'openai: a chat reply');
  check(whole.usage.completion_tokens === 8 && choice.finish_reason === 'length', 'openai: max_tokens is honoured',
    JSON.stringify(whole.usage));

  let streamed = '';
  let finish = null;
  for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) {
    if (chunk.choices.length === 0) continue;
    streamed += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  check(streamed === choice.message.content, 'openai: the stream spells the same reply (same seed)',
    `${JSON.stringify(streamed)} vs ${JSON.stringify(choice.message.content)}`);
  check(finish === 'length', 'openai: the stream ends with its finish_reason');

  const called = await client.chat.completions.create({
    model: 'hy-tiny', messages: [{ role: 'user', content: 'weather in Paris?' }], max_tokens: 200, seed: 1,
    tools: [WEATHER_TOOL], tool_choice: 'required',
  });
  const calls = called.choices[0].message.tool_calls ?? [];
  check(calls.length >= 1 && calls.every((c) => c.function.name === 'get_weather'), 'openai: a forced tool call',
    JSON.stringify(called.choices[0]));
  const args = JSON.parse(calls[0].function.arguments);
  check(typeof args.city === 'string', 'openai: its arguments follow the parameters schema', calls[0].function.arguments);
  check(called.choices[0].finish_reason === 'tool_calls', 'openai: finish_reason is tool_calls');
  // The conversation goes on with the call and its result.
  const answered = await client.chat.completions.create({
    model: 'hy-tiny', max_tokens: 4, tools: [WEATHER_TOOL],
    messages: [{ role: 'user', content: 'weather in Paris?' }, called.choices[0].message,
      { role: 'tool', tool_call_id: calls[0].id, content: '21C and sunny' }],
  });
  check(typeof answered.choices[0].message.content === 'string', 'openai: a reply after the tool result');

  const structured = await client.chat.completions.create({
    model: 'hy-tiny', messages: [{ role: 'user', content: 'a person' }], max_tokens: 64, seed: 2,
    temperature: 1.2, response_format: { type: 'json_schema', json_schema: { name: 'person', schema: SCHEMA } },
  });
  checkSchemaReply(structured.choices[0].message.content, 'openai json_schema');

  const bad = await rejection(client.chat.completions.create({ ...request, temperature: -1 }), 'openai: a bad temperature');
  check(bad.status === 400 && /temperature/.test(bad.message), 'openai: a bad field is a 400 naming it', bad.message);

  const embedded = await client.embeddings.create({ model: 'hy-tiny', input: ['first text', 'second text'] });
  check(embedded.data.length === 2 && embedded.data.every((d, i) => d.index === i), 'openai: two embeddings in order');
  const v0 = embedded.data[0].embedding;
  const norm = Math.sqrt(v0.reduce((a, x) => a + x * x, 0));
  check(v0.length > 0 && Math.abs(norm - 1) < 1e-4, 'openai: an L2-normalised embedding', `norm ${norm}`);
  check(v0.some((x, i) => x !== embedded.data[1].embedding[i]), 'openai: different texts, different embeddings');
  check(embedded.usage.prompt_tokens > 0, 'openai: embeddings usage', JSON.stringify(embedded.usage));
}

// ---- the ollama client on /api -------------------------------------------------------

async function testOllama(Ollama, base) {
  const ollama = new Ollama({ host: base });
  const { models } = await ollama.list();
  check(models.length === 1 && models[0].name === 'hy-tiny:latest', 'ollama: list names the served model',
    JSON.stringify(models));
  check(models[0].details.format === 'gguf' && models[0].details.family === 'hunyuan-dense', 'ollama: list details');
  const shown = await ollama.show({ model: models[0].name });
  check(shown.capabilities.includes('tools') && shown.model_info['general.architecture'] === 'hunyuan-dense',
    'ollama: show gives capabilities and model_info');
  check(typeof (await ollama.version()).version === 'string', 'ollama: version');
  check((await ollama.ps()).models.length === 1, 'ollama: ps lists the loaded model');

  const request = { model: models[0].name, messages: [{ role: 'user', content: 'hi' }], options: { num_predict: 8, seed: 5 } };
  const whole = await ollama.chat({ ...request, stream: false });
  check(whole.done === true && whole.message.role === 'assistant' && typeof whole.message.content === 'string',
    'ollama: a chat reply');
  check(whole.eval_count === 8 && whole.done_reason === 'length', 'ollama: num_predict is honoured',
    JSON.stringify(whole));
  check(whole.prompt_eval_count > 0 && whole.total_duration > 0 && whole.eval_duration >= 0, 'ollama: the stats');

  let streamed = '';
  let last = null;
  let parts = 0;
  for await (const part of await ollama.chat({ ...request, stream: true })) {
    streamed += part.message.content;
    last = part;
    parts += 1;
  }
  check(parts >= 2 && last.done === true && last.eval_count === 8, 'ollama: the stream ends with done and its stats');
  check(streamed === whole.message.content, 'ollama: the stream spells the same reply (same seed)',
    `${JSON.stringify(streamed)} vs ${JSON.stringify(whole.message.content)}`);

  const generated = await ollama.generate({ model: models[0].name, prompt: 'once', options: { num_predict: 5, seed: 1 } , stream: false });
  check(typeof generated.response === 'string' && generated.eval_count === 5 && generated.done, 'ollama: generate');
  let generatedStream = '';
  for await (const part of await ollama.generate({ model: models[0].name, prompt: 'once', options: { num_predict: 5, seed: 1 }, stream: true }))
    generatedStream += part.response;
  check(generatedStream === generated.response, 'ollama: generate streamed spells the same reply');

  const thinking = await ollama.chat({ ...request, stream: false, think: true, options: { num_predict: 1 } });
  const direct = await ollama.chat({ ...request, stream: false, think: false, options: { num_predict: 1 } });
  check(direct.prompt_eval_count > thinking.prompt_eval_count, 'ollama: think false closes the think block in the prompt');

  // Tools: the client's own shapes (arguments as an object) in the history.
  const withTools = await ollama.chat({
    model: models[0].name, stream: false, options: { num_predict: 4 }, tools: [WEATHER_TOOL],
    messages: [
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', content: '21C and sunny', tool_name: 'get_weather' },
    ],
  });
  check(withTools.done && withTools.prompt_eval_count > whole.prompt_eval_count + 100,
    'ollama: tools and a tool turn go into the prompt');
  for (const call of withTools.message.tool_calls ?? [])
    check(typeof call.function.arguments === 'object', 'ollama: tool call arguments are an object');

  const structured = await ollama.chat({
    model: models[0].name, messages: [{ role: 'user', content: 'a person' }], stream: false, format: SCHEMA,
    options: { num_predict: 64, seed: 2, temperature: 1.2 },
  });
  checkSchemaReply(structured.message.content, 'ollama format schema');

  const bad = await rejection(ollama.chat({ ...request, stream: false, options: { mirostat: 1 } }), 'ollama: an unknown option');
  check(bad.status_code === 400 && bad.error.includes("'options.mirostat'"), 'ollama: an unknown option is a 400 naming it',
    `${bad.status_code} ${bad.error}`);
  const badStream = await rejection((async () => {
    for await (const part of await ollama.chat({ ...request, stream: true, format: 'xml' })) void part;
  })(), 'ollama: a bad format, streamed');
  check(/'format'/.test(badStream.message), 'ollama: a streamed request with a bad field fails naming it', badStream.message);
  const missing = await rejection(ollama.show({ model: 'llama3' }), 'ollama: show of another model');
  check(missing.status_code === 404 && missing.error === 'model "llama3" not found', 'ollama: another model is a 404');

  const embedded = await ollama.embed({ model: models[0].name, input: ['first text', 'second text'] });
  check(embedded.embeddings.length === 2 && embedded.embeddings[0].length > 0, 'ollama: embed gives two vectors');
  check(embedded.prompt_eval_count > 0, 'ollama: embed counts its tokens', JSON.stringify(embedded.prompt_eval_count));
}

// ---- main ------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2), ['hy2bit', 'model', 'modules'], ['hy2bit', 'model', 'modules']);
  const require = createRequire(path.join(path.resolve(args.modules), 'node_modules', 'index.js'));
  const load = async (name) => import(pathToFileURL(require.resolve(name)).href);
  const OpenAI = (await load('openai')).default;
  const { Ollama } = await load('ollama');
  const serve = await startServe(args.hy2bit, args.model, ['-c', '2048', '--alias', 'hy-tiny', '--log-format', 'none']);
  try {
    const base = `http://127.0.0.1:${serve.port}`;
    await testOpenAI(OpenAI, base);
    await testOllama(Ollama, base);
  } finally {
    serve.process.kill('SIGTERM');
  }
  console.log(`all ${passedChecks()} checks passed`);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
