// IAM users: the list and the form that creates one (render), and one user's page with its access keys and
// inline policies (renderUser). IAM speaks the Query protocol: api.iam answers its <XxxResult> as an object.
import * as api from './api.js';
import {h, field, errorBox, table, busy, confirmDialog, formatTime, uid, listPage} from './ui.js';

const POLICY_TEMPLATE = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [],
      "Resource": "*"
    }
  ]
}`;

/** An IAM time (ISO 8601 text) as the console shows times. */
function iamTime(text) {
  if (!text) return '';
  return formatTime(Date.parse(text));
}

function userHref(name) {
  return `#/users/${encodeURIComponent(name)}`;
}

/** The policy document as IAM answers it (URL-encoded), decoded and indented when it is JSON. */
function decodePolicy(encoded) {
  let text = encoded || '';
  try {
    text = decodeURIComponent(text);
  } catch {
    // not URL-encoded after all: show it as it came
  }
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// ---- the list

export async function render(view) {
  let alive = true;

  const {createButton, refreshButton, toolbar, formBox, errors, status, listBox} = listPage(view, {
    title: 'IAM users', createLabel: 'Create user', loadingText: 'Loading IAM users…',
    lead: 'Users sign requests with their access keys; their inline policies say what they may do.'});

  async function load() {
    let users;
    try {
      users = await api.iamList('ListUsers', {}, 'Users');
    } catch (err) {
      if (!alive) return;
      listBox.replaceChildren();
      errors.replaceChildren(errorBox(err));
      return;
    }
    if (!alive) return;
    users.sort((a, b) => String(a.UserName).localeCompare(String(b.UserName)));
    listBox.replaceChildren(table({
      caption: 'IAM users',
      empty: 'No IAM users yet.',
      rows: users,
      columns: [
        {label: 'User name', cell: (u) => h('a', {href: userHref(u.UserName)}, u.UserName)},
        {label: 'ARN', cell: (u) => h('span', {class: 'mono'}, u.Arn)},
        {label: 'User ID', cell: (u) => h('span', {class: 'mono'}, u.UserId)},
        {label: 'Creation date', cell: (u) => iamTime(u.CreateDate)},
      ],
    }));
  }

  function closeForm() {
    formBox.replaceChildren();
    toolbar.replaceChildren(createButton, refreshButton);
  }

  function openForm() {
    // the toggle leaves while the form is open, so "Create user" names one button: the form's submit
    toolbar.replaceChildren(refreshButton);
    const name = h('input', {type: 'text', name: 'userName', autocomplete: 'off', spellcheck: 'false', required: true,
      maxlength: 64});
    const submit = h('button', {type: 'submit'}, 'Create user');
    const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    cancel.addEventListener('click', () => {
      closeForm();
      createButton.focus();
    });
    const formErrors = h('div', {class: 'errors'});
    const form = h('form', {class: 'panel-form', novalidate: true},
      h('h2', null, 'Create a user'),
      field('User name', name, 'Up to 64 characters: letters, digits and + = , . @ _ -'),
      formErrors,
      h('div', {class: 'actions'}, submit, cancel));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      formErrors.replaceChildren();
      busy(submit, async () => {
        const created = await api.iam('CreateUser', {UserName: name.value.trim()});
        if (!alive) return;
        closeForm();
        const userName = created.User ? created.User.UserName : name.value.trim();
        status.replaceChildren(`User ${userName} created. `,
          h('a', {href: userHref(userName)}, `Open ${userName}`), ' to give it access keys and policies.');
        await load();
      }).catch((err) => formErrors.replaceChildren(errorBox(err)));
    });
    formBox.replaceChildren(h('section', {class: 'panel'}, form));
    name.focus();
  }

  createButton.addEventListener('click', openForm);
  refreshButton.addEventListener('click', () => {
    errors.replaceChildren();
    busy(refreshButton, load);
  });

  await load();
  return () => { alive = false; };
}

// ---- one user

/**
 * Shows a new access key's ID and secret in a modal dialog until "Done". The secret lives only in this
 * dialog's read-only field, which is emptied and removed when the dialog closes.
 */
function showNewAccessKey(accessKeyId, secretAccessKey) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const idInput = h('input', {type: 'text', readonly: true, value: accessKeyId, spellcheck: 'false',
      autocomplete: 'off', class: 'mono'});
    const secretInput = h('input', {type: 'text', readonly: true, value: secretAccessKey, spellcheck: 'false',
      autocomplete: 'off', class: 'mono'});
    const done = h('button', {type: 'submit'}, 'Done');
    const form = h('form', {class: 'dialog-form', method: 'dialog'},
      h('h2', {id: titleId}, 'Access key created'),
      h('p', {class: 'notice'}, 'This is the only time the secret access key can be seen: copy it now and keep it '
        + 'somewhere safe. If it is lost, create a new access key and delete this one.'),
      field('Access key ID', idInput),
      field('Secret access key', secretInput),
      h('div', {class: 'actions'}, done));
    const dialog = h('dialog', {'aria-labelledby': titleId, class: 'secret-dialog'}, form);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      secretInput.value = '';
      idInput.value = '';
      dialog.remove();
      resolve();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    secretInput.focus();
    secretInput.select();
  });
}

export async function renderUser(view, params) {
  const userName = params.user;
  let alive = true;

  const pageErrors = h('div', {class: 'errors'});
  const details = h('div', null, h('p', {class: 'loading'}, 'Loading the user…'));
  const deleteButton = h('button', {type: 'button', class: 'danger'}, 'Delete user');

  const keysErrors = h('div', {class: 'errors'});
  const keysStatus = h('p', {class: 'status-line', role: 'status'});
  const keysBox = h('div', {class: 'list'});
  const createKeyButton = h('button', {type: 'button'}, 'Create access key');

  const policyErrors = h('div', {class: 'errors'});
  const policyStatus = h('p', {class: 'status-line', role: 'status'});
  const policyBox = h('div', {class: 'list'});
  const policyFormBox = h('div');
  const addPolicyButton = h('button', {type: 'button', 'aria-expanded': 'false'}, 'Add inline policy');

  const keysHeadingId = uid('h');
  const policiesHeadingId = uid('h');

  view.append(
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/users'}, 'IAM users'), ' / '),
    h('div', {class: 'page-head'},
      h('h1', null, userName),
      h('div', {class: 'toolbar'}, deleteButton)),
    pageErrors,
    h('section', {class: 'panel', 'aria-label': 'Summary'}, details),
    h('section', {class: 'panel', 'aria-labelledby': keysHeadingId},
      h('div', {class: 'panel-head'}, h('h2', {id: keysHeadingId}, 'Access keys'), createKeyButton),
      keysErrors, keysStatus, keysBox),
    h('section', {class: 'panel', 'aria-labelledby': policiesHeadingId},
      h('div', {class: 'panel-head'}, h('h2', {id: policiesHeadingId}, 'Inline policies'), addPolicyButton),
      policyFormBox, policyErrors, policyStatus, policyBox));

  // -- summary

  async function loadUser() {
    const answer = await api.iam('GetUser', {UserName: userName});
    if (!alive) return;
    const u = answer.User || {};
    const item = (label, value, mono) => h('div', null, h('dt', null, label),
      h('dd', {class: mono ? 'mono' : null}, value || '—'));
    details.replaceChildren(h('dl', {class: 'details'},
      item('User name', u.UserName),
      item('ARN', u.Arn, true),
      item('User ID', u.UserId, true),
      item('Path', u.Path, true),
      item('Creation date', iamTime(u.CreateDate))));
  }

  // -- access keys

  async function loadKeys() {
    let keys;
    try {
      keys = await api.iamList('ListAccessKeys', {UserName: userName}, 'AccessKeyMetadata');
    } catch (err) {
      if (!alive) return;
      keysBox.replaceChildren();
      keysErrors.replaceChildren(errorBox(err));
      return;
    }
    if (!alive) return;
    keysBox.replaceChildren(table({
      caption: 'Access keys',
      empty: 'No access keys.',
      rows: keys,
      columns: [
        {label: 'Access key ID', cell: (k) => h('span', {class: 'mono'}, k.AccessKeyId)},
        {label: 'Status', cell: (k) => h('span', {class: ['badge', k.Status === 'Active' ? 'ok' : 'muted']}, k.Status)},
        {label: 'Creation date', cell: (k) => iamTime(k.CreateDate)},
        {label: 'Actions', cell: keyActions},
      ],
    }));
  }

  function keyActions(key) {
    const id = key.AccessKeyId;
    const active = key.Status === 'Active';
    const toggle = h('button', {type: 'button', class: 'secondary small', 'data-key': id},
      active ? 'Deactivate' : 'Activate');
    toggle.addEventListener('click', () => {
      keysErrors.replaceChildren();
      const next = active ? 'Inactive' : 'Active';
      busy(toggle, () => api.iam('UpdateAccessKey', {UserName: userName, AccessKeyId: id, Status: next}))
        .then(() => {
          keysStatus.textContent = `Access key ${id} is ${next === 'Active' ? 'active' : 'inactive'}.`;
          return loadKeys();
        })
        .then(() => refocus(keysBox, id))
        .catch((err) => keysErrors.replaceChildren(errorBox(err)));
    });
    const remove = h('button', {type: 'button', class: 'danger small', 'data-key': id}, 'Delete');
    remove.addEventListener('click', async () => {
      keysErrors.replaceChildren();
      const ok = await confirmDialog({
        title: `Delete access key ${id}?`,
        message: 'Requests signed with this key are refused from now on. This cannot be undone.',
        confirmLabel: 'Delete',
      });
      if (!ok || !alive) return;
      busy(remove, () => api.iam('DeleteAccessKey', {UserName: userName, AccessKeyId: id}))
        .then(() => {
          keysStatus.textContent = `Access key ${id} deleted.`;
          return loadKeys();
        })
        .then(() => createKeyButton.focus())
        .catch((err) => keysErrors.replaceChildren(errorBox(err)));
    });
    return h('div', {class: 'row-actions'}, toggle, remove);
  }

  // The answer (and the secret in it) stays in this function's frame only until the dialog has it.
  async function createAccessKey() {
    const answer = await api.iam('CreateAccessKey', {UserName: userName});
    const key = answer.AccessKey || {};
    const accessKeyId = key.AccessKeyId;
    const shown = showNewAccessKey(accessKeyId, key.SecretAccessKey);
    key.SecretAccessKey = undefined;
    await shown;
    return accessKeyId;
  }

  createKeyButton.addEventListener('click', () => {
    keysErrors.replaceChildren();
    busy(createKeyButton, createAccessKey)
      .then((accessKeyId) => {
        if (!alive) return undefined;
        keysStatus.textContent = `Access key ${accessKeyId} created.`;
        return loadKeys();
      })
      .then(() => { if (alive) createKeyButton.focus(); })
      .catch((err) => keysErrors.replaceChildren(errorBox(err)));
  });

  // -- inline policies

  async function loadPolicies() {
    let names;
    try {
      names = await api.iamList('ListUserPolicies', {UserName: userName}, 'PolicyNames');
    } catch (err) {
      if (!alive) return;
      policyBox.replaceChildren();
      policyErrors.replaceChildren(errorBox(err));
      return;
    }
    if (!alive) return;
    names.sort();
    policyBox.replaceChildren(table({
      caption: 'Inline policies',
      empty: 'No inline policies: this user may do nothing yet.',
      rows: names,
      columns: [
        {label: 'Policy name', cell: (n) => n},
        {label: 'Actions', cell: policyActions},
      ],
    }));
  }

  function policyActions(name) {
    const edit = h('button', {type: 'button', class: 'secondary small', 'data-policy': name}, 'Edit');
    edit.addEventListener('click', () => {
      policyErrors.replaceChildren();
      busy(edit, () => api.iam('GetUserPolicy', {UserName: userName, PolicyName: name}))
        .then((answer) => openPolicyForm(name, decodePolicy(answer.PolicyDocument)))
        .catch((err) => policyErrors.replaceChildren(errorBox(err)));
    });
    const remove = h('button', {type: 'button', class: 'danger small', 'data-policy': name}, 'Delete');
    remove.addEventListener('click', async () => {
      policyErrors.replaceChildren();
      const ok = await confirmDialog({
        title: `Delete inline policy ${name}?`,
        message: `${userName} loses what this policy allows.`,
        confirmLabel: 'Delete',
      });
      if (!ok || !alive) return;
      busy(remove, () => api.iam('DeleteUserPolicy', {UserName: userName, PolicyName: name}))
        .then(() => {
          policyStatus.textContent = `Inline policy ${name} deleted.`;
          closePolicyForm();
          return loadPolicies();
        })
        .then(() => addPolicyButton.focus())
        .catch((err) => policyErrors.replaceChildren(errorBox(err)));
    });
    return h('div', {class: 'row-actions'}, edit, remove);
  }

  function closePolicyForm() {
    policyFormBox.replaceChildren();
    addPolicyButton.setAttribute('aria-expanded', 'false');
  }

  /** The form that puts an inline policy: a new one (no name given) or an existing one to edit. */
  function openPolicyForm(existingName, document) {
    addPolicyButton.setAttribute('aria-expanded', existingName ? 'false' : 'true');
    const editing = Boolean(existingName);
    const name = h('input', {type: 'text', name: 'policyName', autocomplete: 'off', spellcheck: 'false',
      required: true, maxlength: 128, value: existingName || '', readonly: editing});
    const doc = h('textarea', {name: 'policyDocument', rows: 14, spellcheck: 'false', autocomplete: 'off',
      required: true});
    doc.value = document === undefined ? POLICY_TEMPLATE : document;
    const submit = h('button', {type: 'submit'}, 'Save policy');
    const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    cancel.addEventListener('click', () => {
      closePolicyForm();
      addPolicyButton.focus();
    });
    const formErrors = h('div', {class: 'errors'});
    const form = h('form', {class: 'panel-form subform', novalidate: true},
      h('h3', null, editing ? `Edit inline policy ${existingName}` : 'Add an inline policy'),
      field('Policy name', name, editing ? 'To rename a policy, add it under the new name and delete this one.'
        : 'Up to 128 characters: letters, digits and + = , . @ _ -'),
      field('Policy document', doc, 'JSON, as IAM takes it: Version, and Statement with Effect, Action and Resource.'),
      formErrors,
      h('div', {class: 'actions'}, submit, cancel));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      formErrors.replaceChildren();
      // the document goes as typed: IAM judges it and its MalformedPolicyDocument message is shown verbatim
      const policyName = name.value.trim();
      busy(submit, () => api.iam('PutUserPolicy', {UserName: userName, PolicyName: policyName, PolicyDocument: doc.value}))
        .then(() => {
          if (!alive) return undefined;
          closePolicyForm();
          policyStatus.textContent = `Inline policy ${policyName} saved.`;
          return loadPolicies();
        })
        .then(() => { if (alive) addPolicyButton.focus(); })
        .catch((err) => formErrors.replaceChildren(errorBox(err)));
    });
    policyFormBox.replaceChildren(form);
    (editing ? doc : name).focus();
  }

  addPolicyButton.addEventListener('click', () => {
    policyErrors.replaceChildren();
    openPolicyForm(null, undefined);
  });

  // -- the user itself

  deleteButton.addEventListener('click', async () => {
    pageErrors.replaceChildren();
    const ok = await confirmDialog({
      title: `Delete user ${userName}?`,
      message: 'IAM deletes a user only once its access keys and inline policies are deleted.',
      confirmLabel: 'Delete',
      typeToConfirm: 'delete',
    });
    if (!ok || !alive) return;
    busy(deleteButton, () => api.iam('DeleteUser', {UserName: userName}))
      .then(() => {
        if (alive) location.hash = '#/users';
      })
      .catch((err) => {
        pageErrors.replaceChildren(errorBox(err));
        deleteButton.focus();
      });
  });

  try {
    await loadUser();
  } catch (err) {
    if (err && err.type === 'ExpiredTokenException') throw err;
    details.replaceChildren(errorBox(err));
    if (err && err.type === 'NoSuchEntity') {
      deleteButton.disabled = true;
      createKeyButton.disabled = true;
      addPolicyButton.disabled = true;
      return () => { alive = false; };
    }
  }
  await Promise.all([loadKeys(), loadPolicies()]);
  return () => { alive = false; };
}

function refocus(box, keyId) {
  const target = Array.from(box.querySelectorAll('button[data-key]')).find((b) => b.dataset.key === keyId);
  if (target) target.focus();
}
