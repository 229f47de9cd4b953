// `/`: re-render the cell list whenever a workspace stream says a cell changed or went.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("cells");
  if (!list) return;
  const refresh = Hive.fragment(list);
  for (const id of list.dataset.workspaces.split(" ").filter(Boolean)) {
    const url = `/api/workspaces/${encodeURIComponent(id)}/stream`;
    Hive.stream(url, { cell: refresh, cell_removed: refresh });
  }
});
