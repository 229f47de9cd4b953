// The template browser (/cells/new): choose a template, fill in the cell, create it.
// Field errors come from the same rules the server applies (the name, as one types) and
// from the API's own answers (422 bodies), each shown next to its field.
"use strict";

(() => {
  const form = document.getElementById("new-cell");
  if (!form) return;
  const section = document.getElementById("new-cell-section");
  const workspaceId = form.dataset.workspace;
  const maxName = Number(form.dataset.maxName);
  const submit = form.querySelector('button[type="submit"]');
  const blocked = document.getElementById("create-blocked");
  const modelField = form.querySelector("[data-model-field]");
  const model = document.getElementById("cell-model");
  const modelHint = document.getElementById("cell-model-hint");
  const inputs = {
    name: document.getElementById("cell-name"),
    description: document.getElementById("cell-description"),
    constraints: document.getElementById("cell-constraints"),
    successCriteria: document.getElementById("cell-successCriteria"),
    model,
  };
  let chosen = null;
  let models = null;

  // --- field errors ------------------------------------------------------------

  function setFieldError(input, messages) {
    const out = document.getElementById(`${input.id}-error`);
    const text = [].concat(messages || []).join(" ");
    out.textContent = text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function clearFieldErrors() {
    for (const input of form.querySelectorAll("[aria-invalid]")) setFieldError(input, "");
    Hive.clearError(submit);
  }

  // The server's rules for a name (clean_name in provisioning/requests/cells.py).
  function nameProblem(value) {
    const name = value.trim();
    if (!name) return "A cell needs a name.";
    const length = [...name].length;
    if (length > maxName) return `At most ${maxName} characters: this name has ${length}.`;
    if (/[\p{Cc}\u2028\u2029]/u.test(name)) return "Control characters (newlines, tabs) are not allowed.";
    return "";
  }

  let nameTimer = null;
  function checkName() {
    clearTimeout(nameTimer);
    setFieldError(inputs.name, nameProblem(inputs.name.value));
  }
  inputs.name.addEventListener("input", () => {
    clearTimeout(nameTimer);
    nameTimer = setTimeout(checkName, 250);
  });
  inputs.name.addEventListener("blur", checkName);

  // --- choosing a template -------------------------------------------------------

  function renderChecks(card, validation) {
    const list = card.querySelector("[data-checks]");
    const meets = card.querySelector("[data-meets]");
    if (!list || !meets) return;
    list.replaceChildren(...validation.checks.map((check) => {
      const item = document.createElement("li");
      item.className = check.ok ? "ok" : "failed";
      const verdict = document.createElement("span");
      verdict.className = "sr-only";
      verdict.textContent = check.ok ? "passes:" : "fails:";
      const name = document.createElement("span");
      name.className = "mono";
      name.textContent = check.name;
      item.append(verdict, " ", name, ` ${check.message}`);
      return item;
    }));
    const badge = document.createElement("span");
    badge.className = validation.ok ? "badge ok" : "badge failed";
    badge.textContent = validation.ok ? "met in this workspace" : "not met in this workspace";
    meets.replaceChildren(badge);
  }

  function block(reason) {
    submit.disabled = Boolean(reason);
    blocked.textContent = reason || "";
  }

  // The checks ran when the page was rendered; run them again now that it matters.
  async function recheck(id, card) {
    const path = `/api/templates/${encodeURIComponent(id)}/validate?workspaceId=${encodeURIComponent(workspaceId)}`;
    try {
      const validation = await Hive.api("POST", path);
      if (chosen !== id) return;
      renderChecks(card, validation);
      const failed = validation.checks.filter((check) => !check.ok).map((check) => check.name);
      block(validation.ok ? "" : `Cannot create: the template now fails ${failed.join(", ")} here (see its card).`);
    } catch (error) {
      if (chosen === id) block(`Cannot create: ${error.message}`);
    }
  }

  async function loadModels() {
    if (models) return;
    models = true;
    try {
      const answer = await Hive.api("GET", `/api/agents/models?workspaceId=${encodeURIComponent(workspaceId)}`);
      if (!answer.available || !answer.providers.length) {
        modelHint.textContent = `No models to pick from${answer.reason ? `: ${answer.reason}` : ""}. The cell uses the template's settings.`;
        return;
      }
      for (const provider of answer.providers) {
        const group = document.createElement("optgroup");
        group.label = provider.name || provider.id;
        for (const id of provider.models) {
          const option = document.createElement("option");
          option.value = `${provider.id}/${id}`;
          option.textContent = id === provider.defaultModel ? `${id} (default)` : id;
          group.append(option);
        }
        model.append(group);
      }
      modelHint.textContent = "Over the template's model, for this cell only.";
    } catch (error) {
      modelHint.textContent = `The models cannot be listed (${error.message}). The cell uses the template's settings.`;
    }
  }

  function choose(button) {
    const id = button.dataset.choose;
    const card = button.closest("[data-template]");
    chosen = id;
    for (const other of document.querySelectorAll("[data-choose]")) {
      const on = other === button;
      other.setAttribute("aria-pressed", String(on));
      other.closest("[data-template]").classList.toggle("chosen", on);
    }
    form.elements.templateId.value = id;
    form.querySelector("[data-chosen-label]").textContent = card.dataset.label;
    for (const options of form.querySelectorAll("[data-options-for]")) {
      const on = options.dataset.optionsFor === id;
      options.hidden = !on;
      options.disabled = !on;
    }
    const picksModel = button.dataset.agent === "opencode";
    modelField.hidden = !picksModel;
    model.disabled = !picksModel;
    if (picksModel) loadModels();
    clearFieldErrors();
    block("");
    section.hidden = false;
    document.getElementById("new-cell-title").focus();
    recheck(id, card);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-choose]");
    if (button && !button.disabled) choose(button);
  });

  // --- creating ----------------------------------------------------------------------

  const lines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);

  function body() {
    const request = { workspaceId, templateId: chosen, name: inputs.name.value };
    const description = inputs.description.value.trim();
    if (description) request.description = description;
    const constraints = lines(inputs.constraints.value);
    if (constraints.length) request.constraints = constraints;
    const criteria = lines(inputs.successCriteria.value);
    if (criteria.length) request.successCriteria = criteria;
    const options = {};
    for (const select of form.querySelectorAll("fieldset:not([disabled]) [data-option]")) {
      options[select.dataset.option] = select.value;
    }
    if (Object.keys(options).length) request.options = options;
    if (!model.disabled && model.value) {
      const slash = model.value.indexOf("/");
      request.providerId = model.value.slice(0, slash);
      request.modelId = model.value.slice(slash + 1);
    }
    return request;
  }

  // The input an error's field path names (`name`, `options.database`, `constraints.0`).
  function inputFor(path) {
    const [head, ...rest] = path.split(".");
    if (head === "options") {
      const option = rest.join(".");
      return [...form.querySelectorAll("fieldset:not([disabled]) [data-option]")]
        .find((select) => select.dataset.option === option) || null;
    }
    if (head === "providerId" || head === "modelId" || head === "model") return model.disabled ? null : model;
    return inputs[head] || null;
  }

  // A 422 from the body's validation lists `errors`; Hive's own say `path: message; …`.
  function problemsOf(error) {
    if (error.errors.length) return error.errors;
    if (error.body.checks) return [{ path: "", message: error.message }];
    if (/^model .* cannot be used/.test(error.message)) return [{ path: "model", message: error.message }];
    return error.message.split("; ").map((part) => {
      const found = /^([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_.-]+)?): ([\s\S]*)$/.exec(part);
      return found ? { path: found[1], message: found[2] } : { path: "", message: part };
    });
  }

  function showServerError(error) {
    const byInput = new Map();
    const rest = [];
    for (const problem of problemsOf(error)) {
      const input = problem.path ? inputFor(problem.path) : null;
      if (!input) { rest.push(problem.path ? `${problem.path}: ${problem.message}` : problem.message); continue; }
      const item = /\.(\d+)$/.exec(problem.path);
      const message = item ? `Line ${Number(item[1]) + 1}: ${problem.message}` : problem.message;
      byInput.set(input, [...(byInput.get(input) || []), message]);
    }
    for (const [input, messages] of byInput) setFieldError(input, messages);
    if (rest.length || !byInput.size) Hive.showError({ message: rest.join("; ") || error.message, hint: error.hint }, submit);
    const first = [...byInput.keys()][0];
    if (first) first.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!chosen || submit.disabled) return;
    clearFieldErrors();
    const problem = nameProblem(inputs.name.value);
    if (problem) {
      setFieldError(inputs.name, problem);
      inputs.name.focus();
      return;
    }
    submit.disabled = true;
    submit.setAttribute("aria-busy", "true");
    try {
      const cell = await Hive.api("POST", "/api/cells", body());
      window.location.assign(`/cells/${encodeURIComponent(cell.id)}`);
    } catch (error) {
      showServerError(error);
      submit.disabled = false;
    } finally {
      submit.removeAttribute("aria-busy");
    }
  });
})();
