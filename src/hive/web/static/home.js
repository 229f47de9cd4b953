// `/`: the cell list follows the workspace streams; the server's fragment is the truth.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("cells");
  if (!list) return;
  const refresh = Hive.fragment(list);
  // Cells the streams said are gone: a fragment read before their removal (or a
  // replayed event) must not bring them back.
  const removed = new Set();

  function dropRemoved() {
    for (const id of removed) document.getElementById(`cell-${id}`)?.remove();
  }
  list.addEventListener("hive:refreshed", dropRemoved);

  // Steps and progress come often during a copy: one re-render per short while.
  let soon = null;
  function refreshSoon() {
    if (soon) return;
    soon = setTimeout(() => { soon = null; refresh(); }, 250);
  }

  const handlers = {
    cell: (data) => { if (!removed.has(data.id)) refresh(); },
    cell_removed: (data) => {
      removed.add(data.id);
      dropRemoved();
      refresh();
    },
    timing: (data) => { if (!removed.has(data.cellId)) refreshSoon(); },
    progress: (data) => { if (!removed.has(data.id)) refreshSoon(); },
  };
  // From the event the page was rendered at: older ones are in the page already.
  const after = encodeURIComponent(list.dataset.after || "0");
  for (const id of list.dataset.workspaces.split(" ").filter(Boolean)) {
    Hive.stream(`/api/workspaces/${encodeURIComponent(id)}/stream?steps=true&after=${after}`, handlers);
  }

  // No stream tells of memory and disk: re-read them now and then, while in view.
  const every = Number(list.dataset.refreshMs) || 15000;
  setInterval(() => { if (!document.hidden) refresh(); }, every);
});
