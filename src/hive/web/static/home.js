// `/`: the cell list follows the workspace streams; the server's fragment is the truth.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("cells");
  if (!list) return;
  const news = document.getElementById("cells-news");
  const refresh = Hive.fragment(list);
  // Cells the streams said are gone: a fragment read before their removal (or a
  // replayed event) must not bring them back.
  const removed = new Set();
  const names = new Map(); // id → name, for telling of a cell no longer listed

  function dropRemoved() {
    for (const id of removed) document.getElementById(`cell-${id}`)?.remove();
  }

  // The list is re-rendered whole; only what a reader would want told is announced.
  function announce(data) {
    const row = document.getElementById(`cell-${data.id}`);
    const agent = data.agent?.status || "none";
    if (data.status === "deleting") return;
    if (!row || row.dataset.status !== data.status) news.textContent = `${data.name} is ${data.status}`;
    else if (agent === "waiting" && row.dataset.agent !== "waiting") news.textContent = `${data.name} is waiting for you`;
  }

  // Steps and progress come often during a copy: one re-render per short while.
  let soon = null;
  function refreshSoon() {
    if (soon) return;
    soon = setTimeout(() => { soon = null; refresh(); }, 250);
  }

  const handlers = {
    cell: (data) => {
      if (removed.has(data.id)) return;
      names.set(data.id, data.name);
      announce(data);
      refresh();
    },
    cell_removed: (data) => {
      const name = document.getElementById(`name-${data.id}`)?.textContent || names.get(data.id);
      if (name) news.textContent = `${name} was deleted`;
      removed.add(data.id);
      dropRemoved();
      refresh();
    },
    timing: (data) => { if (!removed.has(data.cellId)) refreshSoon(); },
    progress: (data) => { if (!removed.has(data.id)) refreshSoon(); },
  };

  // From the event the page was rendered at: older ones are in the page already.
  const after = encodeURIComponent(list.dataset.after || "0");
  const followed = new Set();
  function follow() {
    for (const section of list.querySelectorAll("[data-workspace]")) {
      const id = section.dataset.workspace;
      if (followed.has(id)) continue;
      followed.add(id);
      Hive.stream(`/api/workspaces/${encodeURIComponent(id)}/stream?steps=true&after=${after}`, handlers);
    }
  }
  follow();
  list.addEventListener("hive:refreshed", () => { dropRemoved(); follow(); });

  // No stream tells of memory and disk: re-read them now and then, while in view.
  const every = Number(list.dataset.refreshMs) || 15000;
  setInterval(() => { if (!document.hidden) refresh(); }, every);
});
