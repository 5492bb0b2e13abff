// The chat page: sign in with an API key, pick a model, stream answers over SSE (resuming with
// Last-Event-ID when the connection drops), continue a conversation, watch quota and usage.
import { startOpsPanel } from './opsPanel.js';
import { GraphQLRequestError, StreamDropped, graphql, subscribe } from './transport.js';

const KEY_STORAGE = 'supergraph.apiKey';
// A dropped answer is resumed for this long after its last chunk (a router restarting, a balancer's
// failover), with pauses growing to 2 s: eight quick attempts (9 s in all) gave up on a router that a
// loaded machine took longer to bring back.
const RESUME_FOR_MS = 30_000;
const $ = (id) => document.getElementById(id);
const KEY_REFUSED = 'This API key was not accepted: check that it is complete and has not been revoked.';

/** A random key per prompt (crypto.randomUUID needs a secure context; getRandomValues does not). */
const turnKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

const CHAT_STREAM = `subscription ChatStream($input: ChatInput!) {
  chatStream(input: $input) { conversationId messageId index delta done finishReason cached model { id name } usage { promptTokens completionTokens totalTokens } }
}`;
const ACCOUNT = `query Account { me { id name plan quota { limit used remaining resetsAt } } models { id name contextWindow isDefault } }`;
const USAGE = `query Usage { me { id quota { limit used remaining resetsAt } } myChatUsage { messages promptTokens completionTokens cachedAnswers averageLatencyMs } }`;

const state = { key: undefined, conversationId: undefined, streaming: false, stopPanel: undefined };

/** What a person should read for an error the router sent. */
function describe(error) {
  if (error instanceof StreamDropped) return 'The connection to the router dropped and could not be resumed. Try again.';
  if (!(error instanceof GraphQLRequestError)) return `Something went wrong: ${error.message}`;
  const { code, extensions } = error;
  if (error.status === 401 && !code) return KEY_REFUSED;
  switch (code) {
    case 'UNAUTHENTICATED':
      return KEY_REFUSED;
    case 'RATE_LIMITED': {
      const seconds = Math.ceil((extensions.retryAfterMs ?? (extensions.retryAfter ?? 1) * 1000) / 1000);
      return `Too many requests: try again in ${seconds} s.`;
    }
    case 'QUOTA_EXCEEDED':
      return `Your token allowance is used up until ${new Date(extensions.resetsAt).toLocaleString()}.`;
    case 'FORBIDDEN':
      return `Not allowed: ${error.message}`;
    case 'BAD_USER_INPUT':
      return error.message;
    default:
      return `${error.message}${code ? ` (${code})` : ''}`;
  }
}

function show(id, text) {
  const node = $(id);
  node.textContent = text ?? '';
  node.hidden = !text;
}

function addMessage(role, text) {
  const item = document.createElement('li');
  item.className = `message ${role}`;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  item.append(body);
  $('messages').append(item);
  item.scrollIntoView({ block: 'end' });
  return item;
}

function setMeta(item, text) {
  let meta = item.querySelector('.meta');
  if (!meta) {
    meta = document.createElement('span');
    meta.className = 'meta';
    item.append(meta);
  }
  meta.textContent = text;
}

function renderQuota(quota) {
  if (!quota) return;
  $('quota-used').textContent = quota.used.toLocaleString();
  $('quota-remaining').textContent = quota.remaining.toLocaleString();
  $('quota-resets').textContent = new Date(quota.resetsAt).toLocaleDateString();
  const share = quota.limit ? Math.min(1, quota.used / quota.limit) : 1;
  $('quota-bar').style.width = `${Math.round(share * 100)}%`;
  $('quota-bar').classList.toggle('high', share > 0.8);
}

function renderUsage(usage) {
  if (!usage) return;
  $('usage-messages').textContent = usage.messages;
  $('usage-prompt').textContent = usage.promptTokens.toLocaleString();
  $('usage-completion').textContent = usage.completionTokens.toLocaleString();
  $('usage-cached').textContent = usage.cachedAnswers;
  $('usage-latency').textContent = usage.averageLatencyMs == null ? '–' : `${usage.averageLatencyMs} ms`;
}

async function refreshUsage() {
  try {
    const { data } = await graphql(state.key, USAGE);
    renderQuota(data?.me?.quota);
    renderUsage(data?.myChatUsage);
  } catch {
    // the panel keeps its last numbers; the next answer refreshes them
  }
}

async function signIn(key) {
  show('sign-in-error');
  $('sign-in-button').disabled = true;
  try {
    const { data, errors } = await graphql(key, ACCOUNT);
    if (!data?.me) throw errors?.length ? new GraphQLRequestError(errors, 200) : new Error('no account answers to this key.');
    state.key = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    $('who').textContent = `${data.me.name} · ${data.me.plan}`;
    const select = $('model');
    select.replaceChildren(new Option('Chosen for me', ''));
    for (const model of data.models ?? []) select.append(new Option(`${model.name} (${model.contextWindow.toLocaleString()} tokens)`, model.id));
    renderQuota(data.me.quota);
    $('sign-in').hidden = true;
    $('chat').hidden = false;
    $('sidebar').hidden = false;
    $('sign-out').hidden = false;
    state.stopPanel = startOpsPanel($('ops'), $('ops-updated'));
    void refreshUsage();
    $('prompt').focus();
  } catch (error) {
    sessionStorage.removeItem(KEY_STORAGE);
    show('sign-in-error', describe(error));
  } finally {
    $('sign-in-button').disabled = false;
  }
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  state.stopPanel?.();
  location.reload();
}

function newConversation() {
  state.conversationId = undefined;
  $('messages').replaceChildren();
  $('conversation').textContent = '';
}

/**
 * Streams one answer into a new assistant bubble, chunk by chunk in index order. When the
 * connection drops, it asks again with Last-Event-ID (`<messageId>:<index>` of the last chunk shown)
 * and the router continues the same answer from there; a chunk seen twice is skipped.
 */
async function ask(prompt) {
  state.streaming = true;
  $('send').disabled = true;
  show('chat-error');
  addMessage('user', prompt);
  const bubble = addMessage('assistant streaming', '');
  const text = bubble.querySelector('.text');
  // One key per prompt: a re-sent opening (the page's retry, a gateway's after a replica died) starts no second answer.
  const request = { query: CHAT_STREAM, variables: { input: { prompt, conversationId: state.conversationId ?? null, model: $('model').value || null, idempotencyKey: turnKey() } } };
  let lastEventId;
  let next = 0;
  let done = false;
  try {
    let resumeUntil = Date.now() + RESUME_FOR_MS;
    for (let attempt = 0; !done; attempt++) {
      try {
        for await (const { id, payload } of subscribe(state.key, request, { lastEventId })) {
          if (payload.errors?.length) throw new GraphQLRequestError(payload.errors, 200);
          const chunk = payload.data?.chatStream;
          if (!chunk) continue;
          if (id) lastEventId = id;
          attempt = 0;
          resumeUntil = Date.now() + RESUME_FOR_MS;
          state.conversationId = chunk.conversationId;
          $('conversation').textContent = `Conversation ${chunk.conversationId.slice(0, 13)}…`;
          if (chunk.index !== next) continue; // already shown before a reconnect
          text.textContent += chunk.delta;
          bubble.dataset.chunks = String(++next);
          bubble.scrollIntoView({ block: 'end' });
          if (chunk.done) {
            done = true;
            const usage = chunk.usage ? ` · ${chunk.usage.totalTokens} tokens` : '';
            setMeta(bubble, `${chunk.model.name}${chunk.cached ? ' · from cache' : ''}${usage} · ${chunk.finishReason ?? 'stop'}`);
          }
        }
        if (!done) throw new StreamDropped();
      } catch (error) {
        if (!(error instanceof StreamDropped) || Date.now() >= resumeUntil) throw error;
        $('chat-status').textContent = 'Connection lost; resuming the answer…';
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * (attempt + 1), 2_000)));
      }
      $('chat-status').textContent = '';
    }
    bubble.classList.add('done');
  } catch (error) {
    bubble.classList.add('failed');
    setMeta(bubble, 'The answer stopped here.');
    show('chat-error', describe(error));
  } finally {
    bubble.classList.remove('streaming');
    $('chat-status').textContent = '';
    state.streaming = false;
    $('send').disabled = false;
    void refreshUsage();
  }
}

function submitPrompt(event) {
  event.preventDefault();
  const prompt = $('prompt').value.trim();
  if (!prompt || state.streaming) return;
  $('prompt').value = '';
  void ask(prompt);
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn($('api-key').value.trim());
  });
  $('prompt-form').addEventListener('submit', submitPrompt);
  $('prompt').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) submitPrompt(event);
  });
  $('new-conversation').addEventListener('click', newConversation);
  $('sign-out').addEventListener('click', signOut);
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) void signIn(saved);
});
