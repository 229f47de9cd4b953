// `/resources`: sort the table by any column (client-side) and refresh it on a timer;
// the chosen order survives each refresh.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const region = document.getElementById("resources");
  if (!region) return;
  // Figures: biggest first on the first click; words: A to Z.
  let order = { key: "name", direction: "ascending" };

  function compare(key, numeric) {
    return (a, b) => {
      const x = a.dataset[key], y = b.dataset[key];
      if (numeric) {
        // A cell without a figure goes last whichever way the column is sorted.
        if (x === "" || y === "") return (x === "") - (y === "");
        return Number(x) - Number(y);
      }
      return x.localeCompare(y);
    };
  }

  function apply() {
    const table = region.querySelector("#resource-table");
    if (!table) return;
    let header = null;
    for (const th of table.querySelectorAll("th[data-key]")) {
      const chosen = th.dataset.key === order.key;
      th.setAttribute("aria-sort", chosen ? order.direction : "none");
      if (chosen) header = th;
    }
    if (!header) return;
    const numeric = header.hasAttribute("data-numeric");
    const body = table.tBodies[0];
    const rows = [...body.rows];
    const by = compare(order.key, numeric);
    const sign = order.direction === "ascending" ? 1 : -1;
    rows.sort((a, b) => {
      const missing = numeric && (a.dataset[order.key] === "" || b.dataset[order.key] === "");
      const result = missing ? by(a, b) : sign * by(a, b);
      return result || a.dataset.name.localeCompare(b.dataset.name);
    });
    body.append(...rows);
  }

  region.addEventListener("click", (event) => {
    const button = event.target.closest("th button.sort");
    if (!button) return;
    const th = button.closest("th");
    if (th.dataset.key === order.key) {
      order.direction = order.direction === "ascending" ? "descending" : "ascending";
    } else {
      order = { key: th.dataset.key, direction: th.hasAttribute("data-numeric") ? "descending" : "ascending" };
    }
    apply();
  });
  region.addEventListener("hive:refreshed", apply);

  const refresh = Hive.fragment(region);
  setInterval(() => { if (!document.hidden) refresh(); }, Number(region.dataset.refreshMs) || 5000);
});
