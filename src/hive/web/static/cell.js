// `/cells/{id}`: the view follows the cell live. While it is provisioned, its step stream
// re-renders the checklist and its setup log streams under the running step; once ready,
// its services stream re-renders the services and each service's log is followed. When
// the status changes, the whole view is re-rendered from the server (`?part=view`).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("cell-view");
  if (!root) return;
  const refreshView = Hive.fragment(root);
  const refreshers = new WeakMap();
  let streams = [];
  let streamsFor = null;
  const followers = new Map();
  let setupText = "";

  const current = () => root.querySelector("[data-view]");
  const base = () => `/api/cells/${encodeURIComponent(current().dataset.cell)}`;

  /** Re-render the element with this id from its fragment, if it is on the page now. */
  function refresh(id) {
    const element = document.getElementById(id);
    if (!element) return;
    if (!refreshers.has(element)) refreshers.set(element, Hive.fragment(element));
    refreshers.get(element)();
  }

  /** A `cell` event: a new status is a new view; else the part it may have changed. */
  function onCell(data, part) {
    if (!data || data.id !== current().dataset.cell) return;
    if (data.status !== current().dataset.status) refreshView();
    else refresh(part);
  }

  // Only the running attempt's output, and at most its last 20,000 characters.
  function paintSetupOutput() {
    const attempt = setupText.lastIndexOf("\n[hive] attempt ");
    if (attempt > 0) setupText = setupText.slice(attempt + 1);
    if (setupText.length > 20000) setupText = setupText.slice(-20000);
    const pre = root.querySelector("[data-setup-output]");
    if (pre && setupText) {
      pre.textContent = setupText;
      pre.scrollTop = pre.scrollHeight;
    }
  }

  function openStreams(kind) {
    for (const source of streams) source.close();
    streams = [];
    streamsFor = kind;
    // Streams go on from the moment the view was rendered: what came before is in it.
    const after = current().dataset.after || 0;
    if (kind === "provisioning") {
      setupText = root.querySelector("[data-setup-output]")?.textContent || "";
      streams.push(Hive.stream(`${base()}/timings/stream?after=${after}`, {
        timing: () => refresh("checklist"),
        progress: () => refresh("checklist"),
        cell: (data) => onCell(data, "checklist"),
        cell_removed: gone,
      }));
      const log = Hive.stream(`${base()}/setup-log/stream?after=${current().dataset.logEnd || 0}`, {
        log: (data) => { setupText += data.text; paintSetupOutput(); },
        end: () => log.close(),
      });
      streams.push(log);
      return;
    }
    // Settled: its status (archived, retried, deleted elsewhere) and agent, from the
    // workspace's stream; once ready, its services too.
    const workspace = encodeURIComponent(current().dataset.workspace);
    streams.push(Hive.stream(`/api/workspaces/${workspace}/stream?after=${after}`, {
      cell: (data) => onCell(data, "agent"),
      cell_removed: (data) => { if (data && data.id === current().dataset.cell) gone(); },
    }));
    if (kind === "ready") {
      streams.push(Hive.stream(`${base()}/services/stream`, {
        snapshot: () => refresh("services"),
        service: () => refresh("services"),
      }));
    }
  }

  // A running service's log, from its last lines on, as it is written.
  async function follow(name, pre) {
    const controller = new AbortController();
    followers.set(name, controller);
    try {
      const url = `${base()}/services/${encodeURIComponent(name)}/logs?tail=40&follow=true`;
      const response = await fetch(url, { credentials: "same-origin", signal: controller.signal });
      if (!response.ok || !response.body) return;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text = (text + decoder.decode(value, { stream: true })).split("\n").slice(-200).join("\n");
        pre.textContent = text;
        pre.scrollTop = pre.scrollHeight;
      }
    } catch {
      // aborted (the view changed) or the server went: the log stays as it was
    } finally {
      if (followers.get(name) === controller) followers.delete(name);
    }
  }

  // A browser holds at most 6 connections to a server, streams included: only open
  // logs are followed, and no more than two at once (the others keep their last lines).
  const MAX_FOLLOWED = 2;

  function followServices(restart) {
    if (restart) {
      for (const controller of followers.values()) controller.abort();
      followers.clear();
    }
    if (current().dataset.view !== "ready") return;
    for (const row of root.querySelectorAll("[data-service][data-running='1']")) {
      const name = row.dataset.service;
      const pre = [...root.querySelectorAll("[data-service-log]")].find((p) => p.dataset.serviceLog === name);
      if (!pre || !pre.closest("details").open || followers.has(name)) continue;
      if (followers.size >= MAX_FOLLOWED) break;
      follow(name, pre);
    }
  }

  /** After the view was (re-)rendered: the streams its kind needs, logs on the new elements. */
  function sync() {
    const kind = current().dataset.view;
    if (kind !== streamsFor) openStreams(kind);
    else paintSetupOutput();
    followServices(true);
  }

  function gone() {
    for (const source of streams) source.close();
    streams = [];
    streamsFor = "gone";
    for (const controller of followers.values()) controller.abort();
    followers.clear();
    root.replaceChildren();
    const panel = document.createElement("section");
    panel.className = "panel";
    panel.innerHTML = '<h1>This cell was deleted</h1><p><a href="/">Back to the cells</a></p>';
    root.append(panel);
  }

  root.addEventListener("hive:refreshed", (event) => {
    if (event.target === root) sync();
    else if (event.target.id === "checklist") paintSetupOutput();
    else if (event.target.id === "services") followServices(false);
  });
  // A fragment the server no longer has: the cell is gone.
  root.addEventListener("hive:gone", gone);
  // A button's API call changed the cell (cancel, retry, archive…) or a service.
  root.addEventListener("hive:done", (event) => {
    if (event.target.dataset.then) return;
    if (event.target.closest("#services")) refresh("services");
    else refreshView();
  });

  // The whole setup log, read when it is opened; a service's log followed while open.
  root.addEventListener("toggle", async (event) => {
    const details = event.target;
    const log = details.querySelector?.("[data-service-log]");
    if (log) {
      if (!details.open) {
        followers.get(log.dataset.serviceLog)?.abort();
        followers.delete(log.dataset.serviceLog);
      }
      followServices(false);
      return;
    }
    if (!details.matches?.("[data-full-log]") || !details.open) return;
    const pre = details.querySelector("[data-log-text]");
    const response = await fetch(details.dataset.url, { credentials: "same-origin" });
    pre.textContent = response.ok ? (await response.text()) || "(the log is empty)" : `could not read the log (${response.status})`;
  }, true);

  root.addEventListener("submit", async (event) => {
    const form = event.target.closest("[data-agent-message]");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const box = form.querySelector("textarea");
    const sent = form.querySelector("[data-sent]");
    button.disabled = true;
    try {
      await Hive.api("POST", form.dataset.agentMessage, { text: box.value });
      Hive.clearError(button);
      box.value = "";
      sent.textContent = "sent";
    } catch (error) {
      Hive.showError(error, button);
    } finally {
      button.disabled = false;
    }
  });

  sync();
});
