// DOM helpers shared by every page of the console. Pages build their DOM with h() and textContent only:
// API data never goes through innerHTML, so it cannot become markup (and the CSP forbids inline code anyway).

const BOOLEAN_PROPS = new Set(['disabled', 'checked', 'selected', 'hidden', 'required', 'multiple', 'readOnly']);
let nextId = 0;

/** A fresh element id, for label/control pairs and aria-labelledby. */
export function uid(prefix = 'ui') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

function append(el, child) {
  if (child === null || child === undefined || child === false || child === true) return;
  if (Array.isArray(child)) {
    child.forEach((c) => append(el, c));
  } else if (child instanceof Node) {
    el.appendChild(child);
  } else {
    el.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * h('button', {type: 'button', on: {click: fn}}, 'Save') → <button type="button">Save</button>.
 * Children are appended before the attributes are set, so a <select>'s value picks one of its options.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  append(el, children);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === 'on') {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key === 'for') {
      el.htmlFor = value;
    } else if (key === 'value') {
      el.value = value;
    } else if (BOOLEAN_PROPS.has(key)) {
      el[key] = Boolean(value);
    } else if (value === false) {
      continue;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  return el;
}

/**
 * A form field: <div class="field"><label for=id>Label</label><control id=id></div>. The label's text is
 * exactly the control's accessible name (a label wrapping a <select> would add the options' text to it).
 * Checkboxes and radios put the control first.
 */
export function field(label, input, hint) {
  if (!input.id) input.id = uid('f');
  const lab = h('label', {for: input.id}, label);
  const hintEl = hint ? h('span', {class: 'hint', id: uid('hint')}, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const check = input.type === 'checkbox' || input.type === 'radio';
  return check
    ? h('div', {class: 'field check'}, input, lab, hintEl)
    : h('div', {class: 'field'}, lab, input, hintEl);
}

/** <div role="alert" class="error"><strong>Type</strong> message</div>, or null when there is no error. */
export function errorBox(err) {
  if (!err) return null;
  const type = err.type || (err.name && err.name !== 'Error' ? err.name : null);
  const message = err.message || (typeof err === 'string' ? err : String(err));
  return h('div', {role: 'alert', class: 'error'},
    type ? h('strong', null, type) : null,
    type ? ' ' : null,
    h('span', null, message));
}

/**
 * A modal <dialog> asking to confirm; resolves true only on the confirm button. With typeToConfirm, the
 * confirm button stays disabled until the user has typed that word.
 */
export function confirmDialog({title, message, confirmLabel = 'Confirm', typeToConfirm} = {}) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const confirm = h('button', {type: 'submit', class: 'danger', disabled: Boolean(typeToConfirm)}, confirmLabel);
    const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    let typed = null;
    if (typeToConfirm) {
      typed = h('input', {type: 'text', autocomplete: 'off', spellcheck: 'false'});
      typed.addEventListener('input', () => { confirm.disabled = typed.value !== typeToConfirm; });
    }
    let result = false;
    const form = h('form', {class: 'dialog-form'},
      h('h2', {id: titleId}, title),
      message ? h('p', null, message) : null,
      typed ? field(`Type ${typeToConfirm} to confirm`, typed) : null,
      h('div', {class: 'actions'}, cancel, confirm));
    const dialog = h('dialog', {'aria-labelledby': titleId}, form);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (confirm.disabled) return;
      result = true;
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    (typed || cancel).focus();
  });
}

/** Sets an element's text only when it changes, so a live region does not announce the same words again. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** epoch millis → 'YYYY-MM-DD HH:MM:SS UTC'; '' for a missing or invalid time. */
export function formatTime(epochMillis) {
  if (epochMillis === null || epochMillis === undefined || epochMillis === '') return '';
  const d = new Date(Number(epochMillis));
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** 1536 → '1.5 KiB'. */
export function formatBytes(n) {
  const value = Number(n);
  if (!Number.isFinite(value)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.abs(value);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  const shown = i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0);
  return `${value < 0 ? '-' : ''}${shown} ${units[i]}`;
}

/**
 * table({caption, columns: [{label, cell: row => node|string, class?}], rows, empty}) → <table> with a
 * <caption>, a header row of <th scope="col"> and one row per item; `empty` (text) fills one row when there
 * are no rows.
 */
export function table({caption, columns, rows, empty = 'Nothing to show'}) {
  const head = h('thead', null, h('tr', null, columns.map((c) => h('th', {scope: 'col', class: c.class}, c.label))));
  const body = h('tbody', null,
    rows.length === 0
      ? h('tr', {class: 'empty'}, h('td', {colspan: columns.length}, empty))
      : rows.map((row) => h('tr', null, columns.map((c) => h('td', {class: c.class}, c.cell(row))))));
  return h('table', {class: 'data'}, caption ? h('caption', null, caption) : null, head, body);
}

/**
 * Runs promiseFn with the button disabled (and aria-busy) until it settles; resolves or rejects as it does,
 * so callers catch errors inside promiseFn or on the returned promise.
 */
export async function busy(button, promiseFn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await promiseFn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** Runs fn over items, at most `width` at a time, keeping the order of the results. */
export async function mapLimited(items, width, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await fn(items[i]);
    }
  }
  await Promise.all(Array.from({length: Math.min(width, items.length)}, worker));
  return results;
}

/**
 * The frame of a list page (KMS keys, IAM users): its heading with a create and a refresh button, a
 * lead paragraph, a box for the create form, and a panel with errors, a status line and the list.
 */
export function listPage(view, {title, lead, createLabel, loadingText}) {
  const createButton = h('button', {type: 'button'}, createLabel);
  const refreshButton = h('button', {type: 'button', class: 'secondary'}, 'Refresh');
  const toolbar = h('div', {class: 'toolbar'}, createButton, refreshButton);
  const formBox = h('div');
  const errors = h('div', {class: 'errors'});
  const status = h('p', {class: 'status-line', role: 'status'});
  const listBox = h('div', {class: 'list'}, h('p', {class: 'loading'}, loadingText));
  view.append(
    h('div', {class: 'page-head'}, h('h1', null, title), toolbar),
    h('p', {class: 'lead'}, ...[].concat(lead)),
    formBox,
    h('section', {class: 'panel', 'aria-label': title}, errors, status, listBox));
  return {createButton, refreshButton, toolbar, formBox, errors, status, listBox};
}
