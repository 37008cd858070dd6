// The faasport dev dashboard: state from api/state, then live changes from api/stream
// (Server-Sent Events). Every value from the runtime is set as text, never as HTML.
"use strict";

const SOURCES = ["apigw-v2", "apigw-v1", "sqs", "sns", "s3", "schedule", "kinesis", "eventbridge"];
const HTTP = new Set(["apigw-v1", "apigw-v2"]);
const state = { functions: [], environments: new Map(), invocations: new Map(), queues: [] };
let selected = null;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const ms = (value) => (value === null || value === undefined ? "" : `${value.toFixed(1)} ms`);
const mb = (value) => (value ? `${value} MB` : "");
const clock = (seconds) => new Date(seconds * 1000).toLocaleTimeString([], { hour12: false });
const badge = (text) => el("span", { class: `badge ${text}`, text: text.replace("_", " ") });

async function api(path, options) {
  const response = await fetch(`api/${path}`, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

function post(path, document) {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(document),
  });
}

function renderFunctions() {
  const body = document.querySelector("#functions tbody");
  body.replaceChildren(...state.functions.map((fn) => {
    const source = el("select", { "aria-label": `event source for ${fn.name}` },
      ...SOURCES.map((name) => el("option", { value: name, text: name })));
    source.value = fn.source;
    const input = el("input", { "aria-label": `path or body for ${fn.name}` });
    const hint = () => {
      input.placeholder = HTTP.has(source.value) ? "path" : "body (or a key for s3)";
      input.value = HTTP.has(source.value) ? fn.path : "";
    };
    source.addEventListener("change", hint);
    hint();
    const button = el("button", {
      type: "button", class: "invoke", "data-function": fn.name, text: "Invoke",
      onclick: () => invoke(fn.name, source.value, input.value),
    });
    const wiring = [...fn.routes, ...fn.events];
    return el("tr", { "data-function": fn.name },
      el("td", {}, el("strong", { text: fn.name }), el("div", { class: "small mono", text: fn.target })),
      el("td", {}, ...wiring.map((text) => el("div", { class: "mono", text }))),
      el("td", { class: "small", text: `${fn.memory} MB, ${fn.timeout} s, ${fn.concurrency} at most, ${fn.warm} warm` }),
      el("td", {}, source, " ", input, " ", button));
  }));
}

async function invoke(name, source, value) {
  const note = document.getElementById("invoke-result");
  const document_ = { source };
  if (HTTP.has(source)) document_.path = value || "/";
  else document_.body = value;
  note.textContent = `invoking ${name}...`;
  try {
    const result = await post(`functions/${encodeURIComponent(name)}/invoke`, document_);
    note.textContent = `${name}: ${result.status} (request ${result.requestId})`;
  } catch (error) {
    note.textContent = `${name}: ${error.message}`;
  }
}

function renderEnvironments() {
  const rows = [...state.environments.values()].sort((a, b) => b.started - a.started);
  document.querySelector("#environments tbody").replaceChildren(...rows.map((env) => el("tr", { "data-env": env.id },
    el("td", { class: "mono", text: env.id }),
    el("td", {}, badge(env.state)),
    el("td", { class: "num", text: env.pid ? String(env.pid) : "" }),
    el("td", { class: "num", text: `${env.state === "killed" ? env.peak_mb : env.memory_mb} / ${env.limit_mb} MB` }),
    el("td", { class: "num", text: String(env.invocations) }),
    el("td", { class: "num", text: ms(env.init_ms) }))));
}

function renderInvocations() {
  const rows = [...state.invocations.values()].sort((a, b) => b.started - a.started);
  const longest = Math.max(1, ...rows.map((r) => (r.duration_ms || 0) + (r.init_ms || 0)));
  const width = (value) => `${Math.max(2, Math.round((value / longest) * 120))}px`;
  document.querySelector("#invocations tbody").replaceChildren(...rows.map((inv) => {
    const duration = el("td", { class: "num", text: ms(inv.duration_ms) });
    // Widths through the CSSOM: the page's content security policy refuses inline styles.
    const bar = (kind, value) => {
      const node = el("span", { class: kind });
      node.style.width = width(value);
      duration.append(node);
    };
    if (inv.init_ms) bar("bar init", inv.init_ms);
    if (inv.duration_ms !== null) bar("bar", inv.duration_ms);
    return el("tr", {
      "data-request-id": inv.id, class: inv.id === selected ? "selected" : "",
      onclick: () => openInvocation(inv.id),
    },
    el("td", { class: "num", text: clock(inv.started) }),
    el("td", { text: inv.function }),
    el("td", { class: "mono", text: inv.trigger }),
    el("td", {}, badge(inv.status), inv.http_status ? ` ${inv.http_status}` : ""),
    duration,
    el("td", { class: "num", text: ms(inv.init_ms) }),
    el("td", { class: "num", text: mb(inv.max_memory_mb) }),
    el("td", { class: "mono small", text: inv.id }));
  }));
}

async function openInvocation(id) {
  selected = id;
  renderInvocations();
  const details = await api(`invocations/${encodeURIComponent(id)}`);
  document.getElementById("details").hidden = false;
  document.getElementById("details-id").textContent = `${details.function} ${details.id}`;
  document.getElementById("details-event").textContent = details.event;
  document.getElementById("details-response").textContent = details.response;
  document.getElementById("details-logs").textContent = details.logs.join("\n");
}

function renderQueues() {
  document.querySelector("#queues tbody").replaceChildren(...state.queues.map((queue) => {
    const actions = el("td", {}, el("button", { type: "button", text: "Messages", onclick: () => showMessages(queue.name) }));
    if (queue.dlq) {
      actions.append(" ", el("button", {
        type: "button", class: "redrive", text: `Redrive ${queue.dlq}`,
        onclick: async () => {
          const note = document.getElementById("invoke-result");
          try {
            const result = await post(`queues/${encodeURIComponent(queue.name)}/redrive`, {});
            note.textContent = `${result.moved} message(s) moved back to ${queue.name}`;
          } catch (error) {
            note.textContent = error.message;
          }
        },
      }));
    }
    return el("tr", { "data-queue": queue.name },
      el("td", { class: "mono", text: queue.name }),
      el("td", { class: "num", text: String(queue.visible) }),
      el("td", { class: "num", text: String(queue.in_flight) }),
      el("td", { class: "num", text: String(queue.delayed) }),
      el("td", { class: "mono", text: queue.dlq || "" }),
      actions);
  }));
}

async function showMessages(name) {
  const result = await api(`queues/${encodeURIComponent(name)}`);
  document.getElementById("messages").hidden = false;
  document.getElementById("messages-queue").textContent = name;
  document.getElementById("messages-body").replaceChildren(...result.messages.map((m) => el("tr", {},
    el("td", { class: "mono small", text: m.id }),
    el("td", { class: "num", text: String(m.receives) }),
    el("td", {}, el("pre", { text: m.body })))));
}

async function load() {
  const snapshot = await api("state");
  document.getElementById("project").textContent = snapshot.project;
  state.functions = snapshot.functions;
  state.environments = new Map(snapshot.environments.map((env) => [env.id, env]));
  state.invocations = new Map(snapshot.invocations.map((inv) => [inv.id, inv]));
  state.queues = snapshot.queues;
  renderFunctions();
  renderEnvironments();
  renderInvocations();
  renderQueues();
}

function connect() {
  const status = document.getElementById("connection");
  const stream = new EventSource("api/stream");
  stream.onopen = () => {
    status.textContent = "live";
    status.className = "badge live";
    load();  // whatever happened while the feed was down
  };
  stream.onerror = () => {
    status.textContent = "reconnecting";
    status.className = "badge down";
  };
  stream.addEventListener("invocation", (message) => {
    const inv = JSON.parse(message.data);
    state.invocations.set(inv.id, inv);
    // Busy and idle are not sent apart: an invocation's start and end say it.
    const env = state.environments.get(inv.env);
    if (env) {
      env.state = inv.status === "running" ? "busy" : "idle";
      if (inv.status !== "running") {
        env.invocations += 1;
        env.memory_mb = Math.max(env.memory_mb, inv.max_memory_mb || 0);
        env.peak_mb = Math.max(env.peak_mb, inv.max_memory_mb || 0);
      }
      renderEnvironments();
    }
    while (state.invocations.size > 200) state.invocations.delete(state.invocations.keys().next().value);
    renderInvocations();
  });
  stream.addEventListener("environment", (message) => {
    const env = JSON.parse(message.data);
    state.environments.set(env.id, env);
    const stopped = [...state.environments.values()].filter((e) => e.state === "killed");
    stopped.sort((a, b) => a.started - b.started);
    for (const old of stopped.slice(0, Math.max(0, stopped.length - 20))) state.environments.delete(old.id);
    renderEnvironments();
  });
  stream.addEventListener("log", (message) => {
    const log = JSON.parse(message.data);
    if (log.id !== selected || document.getElementById("details").hidden) return;
    const pane = document.getElementById("details-logs");
    pane.textContent += (pane.textContent ? "\n" : "") + log.line;
  });
  stream.addEventListener("queues", (message) => {
    state.queues = JSON.parse(message.data);
    renderQueues();
  });
}

document.getElementById("details-close").addEventListener("click", () => {
  document.getElementById("details").hidden = true;
  selected = null;
  renderInvocations();
});
connect();
