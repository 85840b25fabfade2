// hy2bit chat page: settings, the conversation, and replies streamed from
// POST v1/chat/completions (SSE, OpenAI chunk shape; thinking arrives as
// delta.reasoning_content, the answer as delta.content). Model text is only
// ever put in textContent, never parsed as HTML. No external requests.
'use strict';

// ---- settings (kept in localStorage) ----------------------------------------

const SETTINGS_KEY = 'hy2bit.webui.settings';
const DEFAULTS = Object.freeze({
  temperature: 0.7,   // null: the server's default
  maxTokens: 2048,    // null: until the context is full
  systemPrompt: '',
  apiKey: '',
  thinking: true,     // false sends chat_template_kwargs.enable_thinking = false
});

function loadSettings() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) || '{}') || {};
  } catch (_) {
    saved = {};  // unreadable: start from the defaults
  }
  const s = { ...DEFAULTS };
  if (saved.temperature === null || Number.isFinite(saved.temperature)) s.temperature = saved.temperature;
  if (saved.maxTokens === null || Number.isInteger(saved.maxTokens)) s.maxTokens = saved.maxTokens;
  if (typeof saved.systemPrompt === 'string') s.systemPrompt = saved.systemPrompt;
  if (typeof saved.apiKey === 'string') s.apiKey = saved.apiKey;
  if (typeof saved.thinking === 'boolean') s.thinking = saved.thinking;
  return s;
}

function saveSettings() {
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch (_) {
    // Storage may be off (private mode): the settings then last for this page only.
  }
}

// A number field: null when empty, else clamped to the field's min/max.
function readNumber(input, parse) {
  const text = input.value.trim();
  if (text === '') return null;
  const x = parse(text);
  if (!Number.isFinite(x)) return null;
  const lo = input.min === '' ? -Infinity : Number(input.min);
  const hi = input.max === '' ? Infinity : Number(input.max);
  return Math.min(hi, Math.max(lo, x));
}

// ---- page elements and state -------------------------------------------------

const el = (id) => document.getElementById(id);
const ui = {
  messages: el('messages'),
  emptyState: el('empty-state'),
  conversation: el('conversation'),
  composer: el('composer'),
  prompt: el('prompt'),
  send: el('send'),
  stop: el('stop'),
  thinking: el('thinking-toggle'),
  newChat: el('new-chat'),
  modelName: el('model-name'),
  settingsButton: el('settings-button'),
  settings: el('settings'),
  temperature: el('temperature'),
  maxTokens: el('max-tokens'),
  systemPrompt: el('system-prompt'),
  apiKey: el('api-key'),
  settingsReset: el('settings-reset'),
};

let settings = loadSettings();
const history = [];   // finished turns as sent back: {role: 'user' | 'assistant', content}
let current = null;   // the Reply being streamed, if any
let chatNumber = 0;   // which conversation is on screen ("New chat" starts the next)

// ---- building the conversation's DOM (text via textContent only) -------------

function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function nearBottom() {
  const c = ui.conversation;
  return c.scrollHeight - c.scrollTop - c.clientHeight < 80;
}

function scrollToBottom() {
  ui.conversation.scrollTop = ui.conversation.scrollHeight;
}

function addUserMessage(text) {
  const article = make('article', 'message user');
  article.append(make('div', 'bubble', text));
  ui.messages.append(article);
  ui.emptyState.hidden = true;
  scrollToBottom();
}

// One assistant reply as it streams: its text, token count and timings,
// and the elements that show them.
class Reply {
  constructor() {
    this.root = make('article', 'message assistant');
    this.think = make('details', 'thinking');
    this.think.hidden = true;
    this.think.open = true;
    this.thinkSummary = make('summary', '', 'Thinking…');
    this.thinkText = make('div', 'thinking-text');
    this.think.append(this.thinkSummary, this.thinkText);
    this.answer = make('div', 'answer');
    this.stats = make('div', 'stats');
    this.root.append(this.think, this.answer, this.stats);
    this.root.dataset.state = 'waiting';
    ui.messages.append(this.root);
    scrollToBottom();

    this.reasoningText = '';
    this.answerText = '';
    this.tokens = 0;            // counted from the per-token logprobs entries
    this.usageTokens = null;    // the server's final count (stream_options.include_usage)
    this.finishReason = null;
    this.sentAt = performance.now();
    this.firstAt = null;        // when the first token arrived
    this.tokensAtFirst = 0;     // tokens in that first chunk
    this.lastAt = null;         // when the latest token arrived
    this.thinkStart = null;
    this.thinkEnd = null;
    this.userOpenedThink = false;
    this.renderQueued = false;
    this.think.addEventListener('toggle', () => {
      if (this.think.open && this.thinkEnd !== null) this.userOpenedThink = true;
    });
    this.stats.textContent = this.statsText();
  }

  // One chat.completion.chunk from the stream.
  addChunk(chunk) {
    if (chunk.usage && Number.isInteger(chunk.usage.completion_tokens)) this.usageTokens = chunk.usage.completion_tokens;
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!choice) return;
    const now = performance.now();
    const delta = choice.delta || {};
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') {
      if (this.thinkStart === null) this.thinkStart = now;
      this.reasoningText += delta.reasoning_content;
    }
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.thinkStart !== null && this.thinkEnd === null) this.thinkEnd = now;
      this.answerText += delta.content;
    }
    const entries = choice.logprobs && Array.isArray(choice.logprobs.content) ? choice.logprobs.content.length : 0;
    if (entries > 0) {
      if (this.firstAt === null) {
        this.firstAt = now;
        this.tokensAtFirst = entries;
      }
      this.lastAt = now;
      this.tokens += entries;
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    this.queueRender();
  }

  // At most one render a frame; the timer covers tabs whose frames are paused (in the background).
  queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    const run = () => {
      if (this.renderQueued) this.render();
    };
    requestAnimationFrame(run);
    setTimeout(run, 100);
  }

  render() {
    this.renderQueued = false;
    const follow = nearBottom();
    if (this.reasoningText !== '') {
      this.think.hidden = false;
      this.thinkText.textContent = this.reasoningText;
      const ended = this.thinkEnd !== null || this.root.dataset.state !== 'streaming';
      if (ended) {
        const end = this.thinkEnd !== null ? this.thinkEnd : this.lastAt || performance.now();
        this.thinkSummary.textContent = `Thought for ${((end - this.thinkStart) / 1000).toFixed(1)} s`;
        if (!this.userOpenedThink && this.think.dataset.collapsed !== 'yes') {
          this.think.open = false;  // folded once the answer starts; a click opens it again
          this.think.dataset.collapsed = 'yes';
        }
      }
    }
    this.answer.textContent = this.answerText;
    this.stats.textContent = this.statsText();
    if (follow) scrollToBottom();
  }

  // "412 tokens · 1234.5 tokens/s · 0.05 s to first token · stopped"
  statsText() {
    const state = this.root.dataset.state;
    if (state === 'waiting') return 'waiting for the server…';
    const n = this.usageTokens !== null ? this.usageTokens : this.tokens;
    const parts = [];
    if (n > 0 || state === 'done' || state === 'stopped') parts.push(`${n} token${n === 1 ? '' : 's'}`);
    // Decode speed: the tokens after the first chunk over the time since it.
    const seconds = this.firstAt !== null ? (this.lastAt - this.firstAt) / 1000 : 0;
    if (seconds > 0 && this.tokens > this.tokensAtFirst) {
      parts.push(`${((this.tokens - this.tokensAtFirst) / seconds).toFixed(1)} tokens/s`);
    }
    if (this.firstAt !== null) parts.push(`${((this.firstAt - this.sentAt) / 1000).toFixed(2)} s to first token`);
    if (state === 'stopped') parts.push('stopped');
    else if (state === 'done' && this.finishReason === 'length') parts.push('max tokens reached');
    return parts.join(' · ');
  }

  setState(state) {
    this.root.dataset.state = state;
    this.render();
  }

  fail(message) {
    this.root.classList.add('error');
    this.answer.after(make('div', 'error-text', message));
    this.setState('error');
  }
}

// ---- talking to the server -----------------------------------------------------

function apiHeaders() {
  const headers = { 'Content-Type': 'application/json' };
  if (settings.apiKey) headers.Authorization = `Bearer ${settings.apiKey}`;
  return headers;
}

function requestBody(messages) {
  const body = {
    messages,
    stream: true,
    stream_options: { include_usage: true },
    logprobs: true,  // one entry per token: an exact live count for tokens/s
  };
  if (settings.temperature !== null) body.temperature = settings.temperature;
  if (settings.maxTokens !== null) body.max_tokens = settings.maxTokens;
  // Hunyuan thinks by default; off renders the empty think block instead.
  if (!settings.thinking) body.chat_template_kwargs = { enable_thinking: false };
  return body;
}

// The server's own words for a failed request ({"error": {"message"}}), else the status.
async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error.message === 'string') return body.error.message;
  } catch (_) {
    // not JSON: fall through
  }
  return `the server answered ${response.status} ${response.statusText}`;
}

// Streams one reply into `reply`; resolves when [DONE] arrives, throws on errors.
async function streamReply(messages, reply, signal) {
  const response = await fetch('v1/chat/completions', {
    method: 'POST',
    headers: apiHeaders(),
    body: JSON.stringify(requestBody(messages)),
    signal,
  });
  if (!response.ok) throw new Error(await errorMessage(response));
  reply.setState('streaming');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      // An event's data lines, joined (the server sends one per event).
      const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (data === '') continue;
      if (data === '[DONE]') return;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message || 'the server reported an error');
      reply.addChunk(chunk);
    }
  }
  throw new Error('the connection closed before the reply was complete');
}

async function send() {
  const text = ui.prompt.value;
  if (text.trim() === '' || current) return;
  ui.prompt.value = '';
  autosize();
  addUserMessage(text);

  const messages = [];
  if (settings.systemPrompt.trim() !== '') messages.push({ role: 'system', content: settings.systemPrompt });
  messages.push(...history, { role: 'user', content: text });

  const chat = chatNumber;
  const reply = new Reply();
  const controller = new AbortController();
  current = { reply, controller };
  setBusy(true);
  try {
    await streamReply(messages, reply, controller.signal);
    reply.setState('done');
  } catch (err) {
    if (controller.signal.aborted) {
      reply.setState('stopped');
    } else {
      reply.fail(err instanceof TypeError ? `cannot reach the server (${err.message})` : String(err.message || err));
    }
  } finally {
    current = null;
    setBusy(false);
  }
  if (chat !== chatNumber) return;  // New chat was pressed while this reply streamed
  if (reply.root.dataset.state === 'error') {
    // Not part of the conversation: the text goes back in the box to retry.
    if (ui.prompt.value === '') ui.prompt.value = text;
    autosize();
  } else {
    // The answer only: the server drops old thinking from the history anyway.
    history.push({ role: 'user', content: text }, { role: 'assistant', content: reply.answerText });
  }
  ui.prompt.focus();
}

function stop() {
  if (current) current.controller.abort();  // the server sees the connection close and frees the slot
}

function setBusy(busy) {
  ui.send.hidden = busy;
  ui.stop.hidden = !busy;
  document.body.classList.toggle('busy', busy);
}

async function loadModelName() {
  try {
    const response = await fetch('v1/models', { headers: apiHeaders() });
    if (response.status === 401) {
      ui.modelName.textContent = 'API key needed (Settings)';
      return;
    }
    const body = await response.json();
    const id = body && Array.isArray(body.data) && body.data[0] ? body.data[0].id : '';
    ui.modelName.textContent = typeof id === 'string' ? id : '';
  } catch (_) {
    ui.modelName.textContent = 'server unreachable';
  }
}

// ---- composer, toolbar and settings dialog -----------------------------------

function autosize() {
  ui.prompt.style.height = 'auto';
  ui.prompt.style.height = `${Math.min(ui.prompt.scrollHeight, 240)}px`;
}

function fillSettingsForm(s) {
  ui.temperature.value = s.temperature === null ? '' : String(s.temperature);
  ui.maxTokens.value = s.maxTokens === null ? '' : String(s.maxTokens);
  ui.systemPrompt.value = s.systemPrompt;
  ui.apiKey.value = s.apiKey;
}

function readSettingsForm() {
  settings.temperature = readNumber(ui.temperature, Number);
  const maxTokens = readNumber(ui.maxTokens, (t) => Number.parseInt(t, 10));
  settings.maxTokens = maxTokens === null ? null : Math.round(maxTokens);
  settings.systemPrompt = ui.systemPrompt.value;
  const keyChanged = settings.apiKey !== ui.apiKey.value.trim();
  settings.apiKey = ui.apiKey.value.trim();
  saveSettings();
  if (keyChanged) loadModelName();
}

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
ui.prompt.addEventListener('keydown', (event) => {
  // Enter sends; Shift+Enter is a new line; an IME composing (Chinese, Japanese) keeps Enter.
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    send();
  } else if (event.key === 'Escape' && current) {
    stop();
  }
});
ui.prompt.addEventListener('input', autosize);
ui.stop.addEventListener('click', stop);
ui.newChat.addEventListener('click', () => {
  stop();
  chatNumber += 1;
  history.length = 0;
  ui.messages.replaceChildren();
  ui.emptyState.hidden = false;
  ui.prompt.focus();
});
ui.thinking.checked = settings.thinking;
ui.thinking.addEventListener('change', () => {
  settings.thinking = ui.thinking.checked;
  saveSettings();
});
ui.settingsButton.addEventListener('click', () => {
  fillSettingsForm(settings);
  ui.settings.showModal();
});
ui.settingsReset.addEventListener('click', () => fillSettingsForm(DEFAULTS));
ui.settings.addEventListener('close', readSettingsForm);

loadModelName();
ui.prompt.focus();
