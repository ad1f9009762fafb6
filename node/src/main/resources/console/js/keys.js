// The KMS keys page: every key with its aliases, state, rotation and dates, and what may be done to it.
// AWS managed keys (aws/kinesis) are listed too, without the actions AWS refuses on them.
import * as api from './api.js';
import {h, field, errorBox, table, busy, formatTime, uid, mapLimited, listPage} from './ui.js';

const DESCRIBE_PARALLELISM = 6;
const MIN_WINDOW_DAYS = 7;
const MAX_WINDOW_DAYS = 30;

/** A KMS time (epoch seconds) as the console shows times. */
function kmsTime(seconds) {
  return seconds === undefined || seconds === null ? '' : formatTime(Number(seconds) * 1000);
}

const STATE_LABELS = {
  Enabled: ['Enabled', 'ok'],
  Disabled: ['Disabled', 'muted'],
  PendingDeletion: ['Pending deletion', 'bad'],
  PendingImport: ['Pending import', 'warn'],
  Unavailable: ['Unavailable', 'warn'],
  Creating: ['Creating', 'warn'],
  Updating: ['Updating', 'warn'],
};

function stateBadge(state) {
  const [label, tone] = STATE_LABELS[state] || [state || 'Unknown', 'muted'];
  return h('span', {class: ['badge', tone]}, label);
}

/** The key's name for messages: its first alias, else its ID. */
function keyName(row) {
  return row.aliases.length ? row.aliases[0] : row.keyId;
}

/** Everything the table shows about each key: ListKeys, ListAliases, then DescribeKey and rotation per key. */
async function loadKeys() {
  const [keys, aliases] = await Promise.all([api.kmsList('ListKeys', 'Keys'), api.kmsList('ListAliases', 'Aliases')]);
  const aliasesOf = new Map();
  for (const alias of aliases) {
    if (!alias.TargetKeyId) continue; // AWS lists predefined aliases of keys not created yet
    if (!aliasesOf.has(alias.TargetKeyId)) aliasesOf.set(alias.TargetKeyId, []);
    aliasesOf.get(alias.TargetKeyId).push(alias.AliasName);
  }
  const rows = await mapLimited(keys, DESCRIBE_PARALLELISM, async (key) => {
    const row = {keyId: key.KeyId, arn: key.KeyArn, aliases: (aliasesOf.get(key.KeyId) || []).sort(), meta: null,
      rotation: null, error: null, rotationError: null};
    try {
      row.meta = (await api.kms('DescribeKey', {KeyId: key.KeyId})).KeyMetadata;
    } catch (err) {
      row.error = err;
      return row;
    }
    if (row.meta.KeyManager !== 'AWS' && row.meta.KeyState !== 'PendingDeletion') {
      try {
        row.rotation = await api.kms('GetKeyRotationStatus', {KeyId: key.KeyId});
      } catch (err) {
        row.rotationError = err;
      }
    }
    return row;
  });
  // customer keys with aliases first, by alias; then the others by ID; AWS managed keys last
  const rank = (r) => (r.meta && r.meta.KeyManager === 'AWS' ? 2 : r.aliases.length ? 0 : 1);
  rows.sort((a, b) => rank(a) - rank(b) || keyName(a).localeCompare(keyName(b)));
  return rows;
}

/**
 * A modal dialog with a form: build(body) fills it and returns its controls; submit(controls) runs the action and
 * resolves what it did (a message) to close the dialog; a failure is shown in the dialog, which stays open.
 * Resolves that message, or null when the dialog was cancelled.
 */
function formDialog({title, message, confirmLabel, danger, build, submit}) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const confirm = h('button', {type: 'submit', class: danger ? 'danger' : null}, confirmLabel);
    const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    const errors = h('div', {class: 'errors'});
    const body = h('div');
    const controls = build(body);
    const form = h('form', {class: 'dialog-form', novalidate: true},
      h('h2', {id: titleId}, title),
      message ? h('p', null, message) : null,
      body,
      errors,
      h('div', {class: 'actions'}, cancel, confirm));
    const dialog = h('dialog', {'aria-labelledby': titleId}, form);
    let done = null;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      errors.replaceChildren();
      busy(confirm, () => submit(controls))
        .then((close) => {
          if (close) {
            done = close;
            dialog.close();
          }
        })
        .catch((err) => errors.replaceChildren(errorBox(err)));
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(done);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = form.querySelector('input, select, textarea');
    (first || cancel).focus();
  });
}

/** 'alias/x' or 'x' → 'alias/x'. */
function aliasName(text) {
  const name = text.trim();
  return name.startsWith('alias/') ? name : `alias/${name}`;
}

export async function render(view) {
  let alive = true;
  let focusAfter = null; // {keyId, label}: the button to focus once the table is drawn again

  const {createButton, refreshButton, toolbar, formBox, errors, status, listBox} = listPage(view, {
    title: 'KMS keys', createLabel: 'Create key', loadingText: 'Loading KMS keys…',
    lead: ['Symmetric encryption keys for server-side encryption of data streams. ',
      'AWS managed keys such as aws/kinesis are created on first use and managed by the service.']});

  function say(text) {
    status.textContent = text;
  }

  function failed(err) {
    if (!alive) return;
    errors.replaceChildren(errorBox(err));
  }

  /** Runs one action of a row's button, then shows its outcome and the keys as they are now. */
  function act(button, row, call, outcome) {
    errors.replaceChildren();
    say('');
    busy(button, call)
      .then((answer) => {
        if (!alive) return undefined;
        focusAfter = {keyId: row.keyId, label: null};
        return load(outcome(answer));
      })
      .catch(failed);
  }

  function actionsFor(row) {
    if (row.error || !row.meta) return null;
    if (row.meta.KeyManager === 'AWS') return h('span', {class: 'note'}, 'Managed by AWS');
    const id = row.keyId;
    const state = row.meta.KeyState;
    const buttons = [];
    const button = (label, onClick, tone = 'secondary') => {
      const b = h('button', {type: 'button', class: [tone, 'small'], 'data-key': id}, label);
      b.addEventListener('click', () => onClick(b));
      buttons.push(b);
    };
    if (state === 'Enabled') {
      button('Disable', (b) => act(b, row, () => api.kms('DisableKey', {KeyId: id}),
        () => `${keyName(row)} is disabled.`));
    } else if (state === 'Disabled') {
      button('Enable', (b) => act(b, row, () => api.kms('EnableKey', {KeyId: id}),
        () => `${keyName(row)} is enabled.`));
    }
    if (state === 'Enabled' && row.rotation) {
      if (row.rotation.KeyRotationEnabled) {
        button('Disable rotation', (b) => act(b, row, () => api.kms('DisableKeyRotation', {KeyId: id}),
          () => `Automatic rotation of ${keyName(row)} is disabled.`));
      } else {
        button('Enable rotation', (b) => act(b, row, () => api.kms('EnableKeyRotation', {KeyId: id}),
          () => `Automatic rotation of ${keyName(row)} is enabled.`));
      }
    }
    if (state === 'Enabled') {
      button('Rotate now', (b) => act(b, row, () => api.kms('RotateKeyOnDemand', {KeyId: id}),
        () => `${keyName(row)} was rotated: new encryptions use new key material, older data still decrypts.`));
    }
    if (state === 'Enabled' || state === 'Disabled') {
      button('Add alias', () => addAlias(row));
      button('Schedule deletion', () => scheduleDeletion(row), 'danger');
    }
    if (state === 'PendingDeletion') {
      button('Cancel deletion', (b) => act(b, row, () => api.kms('CancelKeyDeletion', {KeyId: id}),
        () => `Deletion of ${keyName(row)} is cancelled; the key is Disabled until you enable it.`));
    }
    return h('div', {class: 'row-actions'}, buttons);
  }

  async function addAlias(row) {
    say('');
    const added = await formDialog({
      title: `Add an alias to ${keyName(row)}`,
      message: 'An alias names the key in requests (alias/NAME); a key may have several.',
      confirmLabel: 'Add alias',
      build: (body) => {
        const alias = h('input', {type: 'text', name: 'alias', autocomplete: 'off', spellcheck: 'false', required: true});
        body.append(field('Alias', alias, 'Letters, digits and / _ - ; the alias/ prefix is added for you.'));
        return {alias};
      },
      submit: async ({alias}) => {
        await api.kms('CreateAlias', {AliasName: aliasName(alias.value), TargetKeyId: row.keyId});
        return `${aliasName(alias.value)} now names ${row.keyId}.`;
      },
    });
    if (added && alive) {
      focusAfter = {keyId: row.keyId, label: 'Add alias'};
      load(added).catch(failed);
    }
  }

  async function scheduleDeletion(row) {
    say('');
    const scheduled = await formDialog({
      title: `Schedule deletion of ${keyName(row)}`,
      message: 'After the waiting period the key and its key material are deleted: every record or data key '
        + 'encrypted under it becomes unreadable for good. Until then the key cannot be used and the deletion '
        + 'can be cancelled.',
      confirmLabel: 'Schedule deletion',
      danger: true,
      build: (body) => {
        const days = h('input', {type: 'number', name: 'pendingWindowInDays', min: MIN_WINDOW_DAYS,
          max: MAX_WINDOW_DAYS, step: 1, value: String(MAX_WINDOW_DAYS), inputmode: 'numeric', required: true});
        body.append(field('Waiting period (days)', days, `Between ${MIN_WINDOW_DAYS} and ${MAX_WINDOW_DAYS} days.`));
        return {days};
      },
      submit: async ({days}) => {
        const text = days.value.trim();
        const request = {KeyId: row.keyId};
        // the API judges the number and answers in its words; only a non-number is caught here
        if (text !== '') {
          if (!/^-?\d+$/.test(text)) {
            throw {type: 'ValidationException', message: 'Enter the waiting period as a whole number of days.'};
          }
          request.PendingWindowInDays = Number(text);
        }
        const answer = await api.kms('ScheduleKeyDeletion', request);
        return `${keyName(row)} is scheduled for deletion on ${kmsTime(answer.DeletionDate)}.`;
      },
    });
    if (scheduled && alive) {
      focusAfter = {keyId: row.keyId, label: 'Cancel deletion'};
      load(scheduled).catch(failed);
    }
  }

  function rotationCell(row) {
    if (!row.meta) return '—';
    if (row.meta.KeyManager === 'AWS') return h('span', {class: 'note'}, 'Managed by AWS');
    if (row.rotationError) return h('span', {class: 'note', title: row.rotationError.message}, row.rotationError.type);
    if (!row.rotation) return '—';
    if (!row.rotation.KeyRotationEnabled) return 'Disabled';
    const period = row.rotation.RotationPeriodInDays ? `every ${row.rotation.RotationPeriodInDays} days` : null;
    const next = row.rotation.NextRotationDate ? `next ${kmsTime(row.rotation.NextRotationDate)}` : null;
    return ['Enabled', period || next ? h('div', {class: 'note'}, [period, next].filter(Boolean).join(', ')) : null];
  }

  function aliasesCell(row) {
    const aws = row.meta && row.meta.KeyManager === 'AWS';
    return [
      row.aliases.length
        ? h('ul', {class: 'plain-list'}, row.aliases.map((a) => h('li', null, a)))
        : h('span', {class: 'note'}, 'No alias'),
      aws ? h('span', {class: 'badge'}, 'AWS managed') : null,
    ];
  }

  function keyIdCell(row) {
    return [
      h('span', {class: 'mono'}, row.keyId),
      row.meta && row.meta.Description ? h('div', {class: 'note'}, row.meta.Description) : null,
      row.error ? errorBox(row.error) : null,
    ];
  }

  /** Draws the table anew, then says `message` (what the last action did), so the two never disagree. */
  async function load(message) {
    let rows;
    try {
      rows = await loadKeys();
    } catch (err) {
      if (!alive) return;
      listBox.replaceChildren();
      failed(err);
      if (message) say(message);
      return;
    }
    if (!alive) return;
    listBox.replaceChildren(table({
      caption: 'KMS keys',
      empty: 'No KMS keys yet. Create one, or enable server-side encryption on a stream with aws/kinesis.',
      rows,
      columns: [
        {label: 'Aliases', cell: aliasesCell},
        {label: 'Key ID', cell: keyIdCell},
        {label: 'Status', cell: (r) => (r.meta ? stateBadge(r.meta.KeyState) : '—')},
        {label: 'Key rotation', cell: rotationCell},
        {label: 'Creation date', cell: (r) => (r.meta ? kmsTime(r.meta.CreationDate) : '')},
        {label: 'Deletion date', cell: (r) => (r.meta ? kmsTime(r.meta.DeletionDate) : '')},
        {label: 'Actions', cell: actionsFor},
      ],
    }));
    if (focusAfter) {
      const buttons = Array.from(listBox.querySelectorAll('button[data-key]'))
        .filter((b) => b.dataset.key === focusAfter.keyId);
      const target = buttons.find((b) => b.textContent === focusAfter.label) || buttons[0];
      if (target) target.focus();
      focusAfter = null;
    }
    if (message) say(message);
  }

  function closeForm() {
    formBox.replaceChildren();
    toolbar.replaceChildren(createButton, refreshButton);
  }

  function openForm() {
    // the toggle leaves while the form is open, so "Create key" names one button: the form's submit
    toolbar.replaceChildren(refreshButton);
    const alias = h('input', {type: 'text', name: 'alias', autocomplete: 'off', spellcheck: 'false'});
    const description = h('input', {type: 'text', name: 'description', autocomplete: 'off', maxlength: 8192});
    const submit = h('button', {type: 'submit'}, 'Create key');
    const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    cancel.addEventListener('click', () => {
      closeForm();
      createButton.focus();
    });
    const formErrors = h('div', {class: 'errors'});
    const form = h('form', {class: 'panel-form', novalidate: true},
      h('h2', null, 'Create a key'),
      h('p', {class: 'note'}, 'A symmetric encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT), enabled.'),
      field('Alias', alias, 'Optional: the key\'s name, as alias/NAME; the alias/ prefix is added for you.'),
      field('Description', description, 'Optional.'),
      formErrors,
      h('div', {class: 'actions'}, submit, cancel));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      formErrors.replaceChildren();
      say('');
      busy(submit, async () => {
        const request = {};
        if (description.value.trim()) request.Description = description.value.trim();
        const created = (await api.kms('CreateKey', request)).KeyMetadata;
        if (alias.value.trim()) {
          try {
            await api.kms('CreateAlias', {AliasName: aliasName(alias.value), TargetKeyId: created.KeyId});
          } catch (err) {
            // the key exists now: say so, and show why the alias did not come
            if (!alive) return;
            closeForm();
            errors.replaceChildren(errorBox(err));
            await load(`Key ${created.KeyId} created, without an alias.`);
            return;
          }
        }
        if (!alive) return;
        closeForm();
        focusAfter = {keyId: created.KeyId, label: null};
        await load(`Key ${alias.value.trim() ? aliasName(alias.value) : created.KeyId} created.`);
      }).catch((err) => formErrors.replaceChildren(errorBox(err)));
    });
    formBox.replaceChildren(h('section', {class: 'panel'}, form));
    alias.focus();
  }

  createButton.addEventListener('click', openForm);
  refreshButton.addEventListener('click', () => {
    errors.replaceChildren();
    busy(refreshButton, load).catch(failed);
  });

  await load();
  return () => { alive = false; };
}
