// The live operator panel: the router's gateway instances, breakers and fallbacks, polled from
// /ops/state. The router answers it only to a browser on its own host; anyone else is told why.

const POLL_MS = 2000;
const BREAKER_LABEL = { closed: 'closed', half_open: 'half-open', open: 'open' };

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderSupergraph(name, state) {
  const section = element('section', 'supergraph');
  section.dataset.supergraph = name;
  const header = element('header');
  header.append(element('span', '', name), element('span', `badge ${state.breaker}`, `breaker ${BREAKER_LABEL[state.breaker] ?? state.breaker}`));
  const replicas = element('ul', 'replicas');
  for (const replica of state.replicas) {
    const item = element('li');
    item.dataset.replica = replica.name;
    const status = !replica.healthy ? 'down' : replica.ejected ? 'ejected' : 'up';
    const label = element('span');
    label.append(element('span', `dot ${status === 'up' ? '' : status}`), document.createTextNode(`${replica.name} · ${status}`));
    item.append(label, element('span', 'muted', `${replica.inFlight} in flight · ${replica.latencyMs} ms`));
    replicas.append(item);
  }
  const { cache, degraded, none } = state.fallbacks;
  const fallbacks = element('p', 'fallbacks', `Failures answered: ${cache} from cache · ${degraded} degraded · ${none} with an error`);
  section.append(header, replicas, fallbacks);
  return section;
}

/** Starts polling into `container`; returns a function that stops it. */
export function startOpsPanel(container, updated) {
  let timer;
  let stopped = false;
  async function poll() {
    try {
      const response = await fetch('/ops/state', { headers: { accept: 'application/json' } });
      if (response.status === 404) {
        container.replaceChildren(element('p', 'muted', 'The operator view is shown only to a browser on the router’s own host (for example through kubectl port-forward or an SSH tunnel).'));
        return; // it will not change: no more polling
      }
      if (!response.ok) throw new Error(`status ${response.status}`);
      const snapshot = await response.json();
      container.replaceChildren(...Object.entries(snapshot.supergraphs).map(([name, state]) => renderSupergraph(name, state)));
      updated.textContent = new Date(snapshot.at).toLocaleTimeString();
    } catch {
      updated.textContent = 'unreachable';
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  }
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
