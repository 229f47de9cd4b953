// Hive's page runtime: API calls, live streams and fragment refreshes, shared by every page.
"use strict";

const Hive = (() => {
  class ApiError extends Error {
    constructor(body, status) {
      super(body.message || `the server answered ${status}`);
      this.status = status;
      this.hint = body.hint || "";
      this.errors = body.errors || [];
      this.body = body;
    }
  }

  /** Call the API the CLI uses; the cookie set by the token URL authenticates it. */
  async function api(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new ApiError({ message: "the Hive server did not answer", hint: "is `hive serve` still running?" }, 0);
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
    if (!response.ok) throw new ApiError(data || {}, response.status);
    return data;
  }

  /** Show an error (message and hint) in the nearest `[data-errors]` region, else the flash bar. */
  function showError(error, near) {
    const region = (near && near.closest("[data-errors-scope]")?.querySelector("[data-errors]")) || document.getElementById("flash");
    region.replaceChildren();
    const message = document.createElement("strong");
    message.textContent = error.message;
    region.append(message);
    if (error.hint) {
      const hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = " " + error.hint;
      region.append(hint);
    }
    region.hidden = false;
  }

  function clearError(near) {
    const region = (near && near.closest("[data-errors-scope]")?.querySelector("[data-errors]")) || document.getElementById("flash");
    region.replaceChildren();
    if (region.id === "flash") region.hidden = true;
  }

  /**
   * A live region re-rendered from its server fragment (`data-fragment` is its URL).
   * At most one request is in flight and one more queued, however many events arrive.
   */
  function fragment(element) {
    let running = null;
    let again = false;
    async function load() {
      const response = await fetch(element.dataset.fragment, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.status === 404) { element.dispatchEvent(new CustomEvent("hive:gone", { bubbles: true })); return; }
      if (!response.ok) throw new ApiError({ message: `refreshing this view failed (${response.status})` }, response.status);
      const html = await response.text();
      const focused = document.activeElement && element.contains(document.activeElement) ? document.activeElement.id : null;
      element.innerHTML = html;
      if (focused) document.getElementById(focused)?.focus();
      element.dispatchEvent(new CustomEvent("hive:refreshed", { bubbles: true }));
    }
    return function refresh() {
      if (running) { again = true; return running; }
      running = (async () => {
        try {
          do { again = false; await load(); } while (again);
        } catch (error) {
          showError(error);
        } finally {
          running = null;
        }
      })();
      return running;
    };
  }

  /** Follow an SSE stream; `handlers` maps event kinds to functions of the parsed data. */
  function stream(url, handlers) {
    const state = document.querySelector("[data-live-state]");
    const source = new EventSource(url);
    source.addEventListener("open", () => { if (state) state.textContent = "live"; });
    source.addEventListener("error", () => {
      if (state) state.textContent = source.readyState === EventSource.CLOSED ? "not live (reload to retry)" : "reconnecting…";
    });
    for (const [kind, handle] of Object.entries(handlers)) {
      source.addEventListener(kind, (event) => handle(event.data ? JSON.parse(event.data) : null, event));
    }
    return source;
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return "—";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const seconds = ms / 1000;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    const whole = Math.round(seconds);
    const minutes = Math.floor(whole / 60);
    if (minutes < 60) return `${minutes} min ${String(whole % 60).padStart(2, "0")} s`;
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
  }

  // Countdowns: `data-remaining-ms` was true when the element was rendered; tick it down.
  function tickCountdowns() {
    const now = performance.now();
    for (const element of document.querySelectorAll("[data-remaining-ms]")) {
      if (!element.hiveRenderedAt) element.hiveRenderedAt = now;
      const left = Number(element.dataset.remainingMs) - (now - element.hiveRenderedAt);
      element.textContent = left > 0 ? `about ${duration(left)} left` : "any moment now";
    }
  }

  // Buttons with `data-api="METHOD /path"` call the API: delegated, so a re-rendered
  // fragment needs no re-binding. `data-confirm` asks first; `data-then` navigates after.
  document.addEventListener("click", async (event) => {
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      event.preventDefault();
      try {
        await navigator.clipboard.writeText(copy.dataset.copy);
        copy.textContent = "copied";
      } catch {
        window.prompt("Copy this:", copy.dataset.copy);
      }
      return;
    }
    const button = event.target.closest("[data-api]");
    if (!button || button.disabled) return;
    event.preventDefault();
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const [method, path] = button.dataset.api.split(" ");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const result = await api(method, path, button.dataset.body ? JSON.parse(button.dataset.body) : undefined);
      clearError(button);
      button.dispatchEvent(new CustomEvent("hive:done", { bubbles: true, detail: result }));
      if (button.dataset.then) window.location.assign(button.dataset.then);
    } catch (error) {
      showError(error, button);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    document.addEventListener("hive:refreshed", tickCountdowns);
  });

  return { api, ApiError, showError, clearError, fragment, stream, duration };
})();
