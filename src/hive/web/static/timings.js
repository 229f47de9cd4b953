// `/timings` and `/cells/{id}/timings`: new steps appear without a reload. The global
// timings stream (from the event the page was rendered at) says when a step ended;
// the results, and a cell's waterfall, re-render from their server fragments.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const results = document.getElementById("timing-results");
  if (!results) return;
  const waterfall = document.getElementById("timing-waterfall");
  const cell = results.dataset.cell || null;
  const refreshResults = Hive.fragment(results);
  const refreshWaterfall = waterfall ? Hive.fragment(waterfall) : null;

  // A step's details left open stay open through refreshes.
  const open = new Set();
  results.addEventListener("toggle", (event) => {
    const id = event.target.closest("tr[data-id]")?.dataset.id;
    if (id) event.target.open ? open.add(id) : open.delete(id);
  }, true);
  results.addEventListener("hive:refreshed", () => {
    for (const id of open) {
      const details = results.querySelector(`tr[data-id="${CSS.escape(id)}"] details`);
      if (details) details.open = true;
    }
  });

  const after = encodeURIComponent(results.dataset.streamAfter || "0");
  Hive.stream(`/api/cells/timings/stream?after=${after}`, {
    timing: (data) => {
      if (!data || data.phase !== "end" || (cell && data.cellId !== cell)) return;
      refreshResults();
      if (refreshWaterfall) refreshWaterfall();
    },
  });
});
