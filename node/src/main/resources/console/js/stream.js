// One data stream: details, server-side encryption, shards and their lineage, tags, retention, monitoring.
import * as api from './api.js';
import {h, field, errorBox, table, busy, confirmDialog, formatTime, setText} from './ui.js';
import {statusBadge, modeLabel, encrypted} from './streams.js';

const DEFAULT_KEY = 'alias/aws/kinesis';
const POLL_MILLIS = 1000;
const TRANSITIONAL = new Set(['CREATING', 'DELETING', 'UPDATING']);
const HASH_SPACE = 2n ** 128n;
const MIN_RETENTION = 24;
const MAX_RETENTION = 8760;

/** All shards of the stream, following NextToken (which must come alone). */
async function listShards(name) {
  const shards = [];
  let request = {StreamName: name};
  for (;;) {
    const page = await api.kinesis('ListShards', request);
    shards.push(...(page.Shards || []));
    if (!page.NextToken) return shards;
    request = {NextToken: page.NextToken};
  }
}

async function listTags(name) {
  const tags = [];
  let request = {StreamName: name};
  for (;;) {
    const page = await api.kinesis('ListTagsForStream', request);
    const batch = page.Tags || [];
    tags.push(...batch);
    if (!page.HasMoreTags || batch.length === 0) return tags;
    request = {StreamName: name, ExclusiveStartTagKey: batch[batch.length - 1].Key};
  }
}

/**
 * The customer keys a stream may be encrypted with, as select options: one per key, by its first alias
 * (value alias/NAME) or by key ID. Keys behind an alias/aws/... alias are AWS managed and left out.
 */
async function customerKeyOptions() {
  const [keys, aliases] = await Promise.all([api.kmsList('ListKeys', 'Keys'), api.kmsList('ListAliases', 'Aliases')]);
  const aliasesOf = new Map();
  for (const alias of aliases) {
    if (!alias.TargetKeyId) continue;
    if (!aliasesOf.has(alias.TargetKeyId)) aliasesOf.set(alias.TargetKeyId, []);
    aliasesOf.get(alias.TargetKeyId).push(alias);
  }
  const options = [];
  for (const key of keys) {
    const own = (aliasesOf.get(key.KeyId) || []).sort((a, b) => a.AliasName.localeCompare(b.AliasName));
    if (own.some((a) => a.AliasName.startsWith('alias/aws/'))) continue;
    const ids = new Set([key.KeyId, key.KeyArn]);
    own.forEach((a) => { ids.add(a.AliasName); ids.add(a.AliasArn); });
    options.push(own.length
      ? {value: own[0].AliasName, label: `${own[0].AliasName.slice('alias/'.length)} (${key.KeyId})`, ids}
      : {value: key.KeyId, label: key.KeyId, ids});
  }
  options.sort((a, b) => (a.value.startsWith('alias/') === b.value.startsWith('alias/')
    ? a.label.localeCompare(b.label) : a.value.startsWith('alias/') ? -1 : 1));
  return options;
}

function isOpen(shard) {
  return !(shard.SequenceNumberRange && shard.SequenceNumberRange.EndingSequenceNumber);
}

function hashFraction(value) {
  try {
    return Number((BigInt(value) * 1000000n) / HASH_SPACE) / 1000000;
  } catch {
    return 0;
  }
}

function compareByHashKey(a, b) {
  const x = BigInt(a.HashKeyRange.StartingHashKey);
  const y = BigInt(b.HashKeyRange.StartingHashKey);
  return x < y ? -1 : x > y ? 1 : a.ShardId.localeCompare(b.ShardId);
}

function percent(f) {
  return `${(f * 100).toFixed(f === 0 || f === 1 ? 0 : 1)} %`;
}

/** A bar showing where in the 128-bit hash key space the shard's range lies, with the same range as text. */
function rangeBar(shard) {
  const start = hashFraction(shard.HashKeyRange.StartingHashKey);
  const end = hashFraction((BigInt(shard.HashKeyRange.EndingHashKey) + 1n).toString());
  const fill = h('span', {class: 'fill'});
  fill.style.left = `${start * 100}%`;
  fill.style.width = `${Math.max(0, end - start) * 100}%`;
  return [
    h('span', {class: 'range', 'aria-hidden': 'true'}, fill),
    h('span', {class: 'range-text'}, `hash keys ${percent(start)} – ${percent(end)}`),
  ];
}

/**
 * The lineage as nested lists: each shard under the shard it came from. A split parent holds its two
 * children; a merged child sits under its parent, and its adjacent parent holds a dashed reference to it.
 */
export function lineageTree(shards) {
  const byId = new Map(shards.map((s) => [s.ShardId, s]));
  const known = (id) => Boolean(id) && byId.has(id);
  const primaryParent = (s) => (known(s.ParentShardId) ? s.ParentShardId
    : known(s.AdjacentParentShardId) ? s.AdjacentParentShardId : null);
  const children = new Map();
  const references = new Map();
  for (const s of shards) {
    const parent = primaryParent(s);
    if (!parent) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(s);
    const other = parent === s.ParentShardId ? s.AdjacentParentShardId : null;
    if (known(other)) {
      if (!references.has(other)) references.set(other, []);
      references.get(other).push(s);
    }
  }

  function relation(s) {
    const kids = [...(children.get(s.ShardId) || []), ...(references.get(s.ShardId) || [])];
    const parts = [];
    if (s.AdjacentParentShardId) parts.push(`merge of ${s.ParentShardId} and ${s.AdjacentParentShardId}`);
    else if (s.ParentShardId) parts.push(`from ${s.ParentShardId}`);
    if (kids.length === 1 && kids[0].AdjacentParentShardId) parts.push(`merged into ${kids[0].ShardId}`);
    else if (kids.length > 1) parts.push(`split into ${kids.map((k) => k.ShardId).join(' and ')}`);
    else if (kids.length === 1) parts.push(`continued by ${kids[0].ShardId}`);
    return parts.join('; ');
  }

  function item(s) {
    const open = isOpen(s);
    const rel = relation(s);
    const kids = (children.get(s.ShardId) || []).slice().sort(compareByHashKey);
    const refs = (references.get(s.ShardId) || []).slice().sort(compareByHashKey);
    const nested = [
      ...kids.map(item),
      ...refs.map((child) => h('li', {class: 'ref'},
        h('div', {class: 'node'},
          h('span', {class: 'shard-id'}, child.ShardId),
          h('span', {class: 'relation'}, `merged with ${child.ParentShardId}; shown under it`)))),
    ];
    return h('li', null,
      h('div', {class: ['node', open ? 'open' : 'closed']},
        h('span', {class: 'shard-id'}, s.ShardId),
        h('span', {class: ['badge', open ? 'ok' : 'muted']}, open ? 'open' : 'closed'),
        rangeBar(s),
        rel ? h('span', {class: 'relation'}, rel) : null),
      nested.length ? h('ul', null, nested) : null);
  }

  const roots = shards.filter((s) => !primaryParent(s)).sort(compareByHashKey);
  return h('ul', {class: 'lineage', 'aria-label': 'Shard lineage'}, roots.map(item));
}

function detail(label, value, wide) {
  return h('div', {class: wide ? 'wide' : null}, h('dt', null, label), h('dd', null, value));
}

/** A table whose section heading already says its caption: the caption stays for screen readers only. */
function quietCaption(tbl) {
  tbl.caption.classList.add('sr-only');
  return tbl;
}

/** Long unbreakable values (shard IDs, 39-digit hash keys) scroll sideways instead of breaking mid-word. */
function scrolling(tbl) {
  return h('div', {class: 'table-wrap'}, tbl);
}

function section(id, ...children) {
  return h('section', {class: 'panel', 'aria-labelledby': id}, ...children);
}

export async function render(view, params) {
  const name = params.stream;
  let alive = true;
  let summary = null;
  let pollTimer = null;
  let leaveTraffic = null;

  const pageErrors = h('div');
  const deleteButton = h('button', {type: 'button', class: 'danger'}, 'Delete');
  const refreshButton = h('button', {type: 'button', class: 'secondary'}, 'Refresh');
  const viewerLink = h('a', {class: 'button secondary', href: `#/streams/${encodeURIComponent(name)}/data`}, 'Data viewer');

  view.append(
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/streams'}, 'Data streams'), ' / '),
    h('div', {class: 'page-head'},
      h('h1', null, name),
      h('div', {class: 'toolbar'}, viewerLink, refreshButton, deleteButton)),
    pageErrors);

  // ---- details
  const detailsList = h('dl', {class: 'details'});
  const liveStatus = h('p', {class: 'status-line', role: 'status'});
  const detailsSection = section('sd-details',
    h('h2', {id: 'sd-details'}, 'Stream details'), detailsList, liveStatus);

  // ---- server-side encryption
  const sseList = h('dl', {class: 'details'});
  const editButton = h('button', {type: 'button', class: 'secondary', 'aria-expanded': 'false'}, 'Edit');
  const sseEditor = h('div');
  const sseSection = section('sd-sse',
    h('div', {class: 'panel-head'}, h('h2', {id: 'sd-sse'}, 'Server-side encryption'), editButton),
    sseList, sseEditor);

  // ---- shards
  const shardsBox = h('div', null, h('p', {class: 'loading'}, 'Loading shards…'));
  const shardsSection = section('sd-shards', h('h2', {id: 'sd-shards'}, 'Shards'), shardsBox);

  // ---- tags
  const tagsBox = h('div', null, h('p', {class: 'loading'}, 'Loading tags…'));
  const tagErrors = h('div');
  const tagKey = h('input', {type: 'text', name: 'tagKey', maxlength: 128, autocomplete: 'off', spellcheck: 'false'});
  const tagValue = h('input', {type: 'text', name: 'tagValue', maxlength: 256, autocomplete: 'off', spellcheck: 'false'});
  const addTagButton = h('button', {type: 'submit'}, 'Add tag');
  const tagForm = h('form', {class: 'inline tag-form', novalidate: true},
    field('Key', tagKey), field('Value', tagValue), h('div', {class: 'actions'}, addTagButton));
  const tagsSection = section('sd-tags', h('h2', {id: 'sd-tags'}, 'Tags'), tagsBox, tagErrors, tagForm);

  // ---- retention
  const retentionInput = h('input', {type: 'number', name: 'retentionHours', min: MIN_RETENTION, max: MAX_RETENTION,
    step: 1, inputmode: 'numeric'});
  const saveRetention = h('button', {type: 'submit'}, 'Save retention');
  const retentionErrors = h('div');
  const retentionStatus = h('p', {class: 'status-line', role: 'status'});
  const retentionForm = h('form', {class: 'inline', novalidate: true},
    field('Retention period (hours)', retentionInput, `From ${MIN_RETENTION} hours (1 day) to ${MAX_RETENTION} hours (365 days).`),
    h('div', {class: 'actions'}, saveRetention));
  const retentionSection = section('sd-retention',
    h('h2', {id: 'sd-retention'}, 'Data retention period'),
    h('p', {class: 'note'}, 'How long records stay readable after they are added to the stream.'),
    retentionErrors, retentionForm, retentionStatus);

  // ---- monitoring
  const trafficBox = h('div', {class: 'traffic'});
  const monitoringSection = section('sd-monitoring', h('h2', {id: 'sd-monitoring'}, 'Monitoring'), trafficBox);

  function renderSummary() {
    const s = summary;
    const active = s.StreamStatus === 'ACTIVE';
    detailsList.replaceChildren(
      detail('Status', statusBadge(s.StreamStatus)),
      detail('Capacity mode', modeLabel(s)),
      detail('Open shards', String(s.OpenShardCount ?? '')),
      detail('Retention (hours)', String(s.RetentionPeriodHours ?? '')),
      detail('Creation time', s.StreamCreationTimestamp ? formatTime(s.StreamCreationTimestamp * 1000) : ''),
      detail('Consumers', String(s.ConsumerCount ?? 0)),
      detail('ARN', h('span', {class: 'mono'}, s.StreamARN || ''), true));
    sseList.replaceChildren(
      detail('Status', encrypted(s) ? 'Enabled' : 'Disabled'),
      detail('KMS key', encrypted(s) && s.KeyId ? h('span', {class: 'mono'}, s.KeyId) : '—'));
    setText(liveStatus, TRANSITIONAL.has(s.StreamStatus)
      ? `The stream is ${s.StreamStatus}; this page refreshes every second until it is ACTIVE.` : '');
    editButton.disabled = !active;
    saveRetention.disabled = !active;
    if (document.activeElement !== retentionInput && s.RetentionPeriodHours !== undefined) {
      retentionInput.value = String(s.RetentionPeriodHours);
    }
  }

  async function refreshSummary() {
    const answer = await api.kinesis('DescribeStreamSummary', {StreamName: name});
    if (!alive) return summary;
    summary = answer.StreamDescriptionSummary;
    renderSummary();
    return summary;
  }

  /** While the stream is CREATING, UPDATING or DELETING, describe it every second until that ends. */
  function watch() {
    clearTimeout(pollTimer);
    if (!alive || !summary || !TRANSITIONAL.has(summary.StreamStatus)) return;
    pollTimer = setTimeout(async () => {
      const before = summary.StreamStatus;
      try {
        await refreshSummary();
      } catch (err) {
        if (!alive) return;
        if (err.type === 'ResourceNotFoundException' && before === 'DELETING') {
          liveStatus.textContent = '';
          pageErrors.replaceChildren(h('p', {class: 'notice', role: 'status'},
            'This data stream has been deleted. ', h('a', {href: '#/streams'}, 'Back to the data streams'), '.'));
          return;
        }
        pageErrors.replaceChildren(errorBox(err));
        if (err.type === 'ExpiredTokenException') return;
        watch();
        return;
      }
      if (!alive) return;
      if (summary.StreamStatus === 'ACTIVE' && before !== 'ACTIVE') loadShards();
      watch();
    }, POLL_MILLIS);
  }

  async function loadShards() {
    try {
      const shards = await listShards(name);
      if (!alive) return;
      const sorted = shards.slice().sort((a, b) => a.ShardId.localeCompare(b.ShardId));
      const mono = (v) => (v ? h('span', {class: 'mono'}, v) : '—');
      shardsBox.replaceChildren(
        scrolling(quietCaption(table({
          caption: 'Shards',
          empty: 'No shards.',
          rows: sorted,
          columns: [
            {label: 'Shard ID', cell: (s) => mono(s.ShardId)},
            {label: 'Status', cell: (s) => (isOpen(s) ? 'open' : 'closed')},
            {label: 'Starting hash key', class: 'hash', cell: (s) => mono(s.HashKeyRange.StartingHashKey)},
            {label: 'Ending hash key', class: 'hash', cell: (s) => mono(s.HashKeyRange.EndingHashKey)},
            {label: 'Parent', cell: (s) => mono(s.ParentShardId)},
            {label: 'Adjacent parent', cell: (s) => mono(s.AdjacentParentShardId)},
          ],
        }))),
        h('h3', {id: 'sd-lineage'}, 'Lineage'),
        h('p', {class: 'note'}, 'Each shard sits under the shard it came from; the bar shows its part of the hash key space.'),
        lineageTree(shards));
    } catch (err) {
      if (alive) shardsBox.replaceChildren(errorBox(err));
    }
  }

  async function loadTags() {
    try {
      const tags = await listTags(name);
      if (!alive) return;
      tagsBox.replaceChildren(quietCaption(table({
        caption: 'Tags',
        empty: 'No tags.',
        rows: tags,
        columns: [
          {label: 'Key', cell: (t) => t.Key},
          {label: 'Value', cell: (t) => t.Value ?? ''},
          {label: 'Actions', cell: (t) => {
            const remove = h('button', {type: 'button', class: 'secondary small'}, 'Remove');
            remove.addEventListener('click', () => {
              tagErrors.replaceChildren();
              busy(remove, () => api.kinesis('RemoveTagsFromStream', {StreamName: name, TagKeys: [t.Key]}))
                .then(() => loadTags())
                .catch((err) => { if (alive) tagErrors.replaceChildren(errorBox(err)); });
            });
            return remove;
          }},
        ],
      })));
    } catch (err) {
      if (alive) tagsBox.replaceChildren(errorBox(err));
    }
  }

  tagForm.addEventListener('submit', (e) => {
    e.preventDefault();
    tagErrors.replaceChildren();
    const key = tagKey.value;
    busy(addTagButton, () => api.kinesis('AddTagsToStream', {StreamName: name, Tags: {[key]: tagValue.value}}))
      .then(() => {
        tagKey.value = '';
        tagValue.value = '';
        tagKey.focus();
        return loadTags();
      })
      .catch((err) => { if (alive) tagErrors.replaceChildren(errorBox(err)); });
  });

  retentionForm.addEventListener('submit', (e) => {
    e.preventDefault();
    retentionErrors.replaceChildren();
    retentionStatus.textContent = '';
    const current = summary ? summary.RetentionPeriodHours : undefined;
    const wanted = Number(retentionInput.value);
    if (retentionInput.value.trim() === '' || !Number.isInteger(wanted)) {
      retentionErrors.replaceChildren(errorBox({type: 'ValidationException',
        message: 'Enter the retention period as a whole number of hours.'}));
      return;
    }
    if (wanted === current) {
      retentionStatus.textContent = `The retention period is already ${current} hours.`;
      return;
    }
    const operation = wanted > current ? 'IncreaseStreamRetentionPeriod' : 'DecreaseStreamRetentionPeriod';
    busy(saveRetention, () => api.kinesis(operation, {StreamName: name, RetentionPeriodHours: wanted}))
      .then(async () => {
        retentionInput.blur();
        await refreshSummary();
        if (!alive) return;
        retentionStatus.textContent = `Retention period set to ${wanted} hours.`;
        watch();
      })
      .catch((err) => { if (alive) retentionErrors.replaceChildren(errorBox(err)); });
  });

  function closeEditor() {
    sseEditor.replaceChildren();
    editButton.setAttribute('aria-expanded', 'false');
  }

  function openEditor() {
    if (sseEditor.firstChild) return;
    editButton.setAttribute('aria-expanded', 'true');
    const currentlyOn = encrypted(summary);
    const currentKey = currentlyOn ? summary.KeyId : null;
    const enable = h('input', {type: 'checkbox', name: 'sseEnabled', checked: currentlyOn});
    const keySelect = h('select', {name: 'kmsKey', disabled: !currentlyOn},
      h('option', {value: DEFAULT_KEY}, '(Default) aws/kinesis'));
    const keyNote = h('p', {class: 'note', role: 'status'}, 'Loading customer keys…');
    const save = h('button', {type: 'submit'}, 'Save changes');
    const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    const errors = h('div');
    const form = h('form', {class: 'subform panel-form', novalidate: true, 'aria-labelledby': 'sd-sse-edit'},
      h('h3', {id: 'sd-sse-edit'}, 'Edit server-side encryption'),
      field('Enable server-side encryption', enable),
      field('AWS KMS key', keySelect,
        'Records are encrypted with a data key of this KMS key before they are stored.'),
      keyNote,
      errors,
      h('div', {class: 'actions'}, save, cancel));
    enable.addEventListener('change', () => { keySelect.disabled = !enable.checked; });
    cancel.addEventListener('click', () => {
      closeEditor();
      editButton.focus();
    });

    // Which option stands for the stream's current key: it may have been given by alias, ID or ARN.
    let options = [];
    const optionFor = (keyId) => {
      if (!keyId) return null;
      if (keyId === DEFAULT_KEY) return DEFAULT_KEY;
      const found = options.find((o) => o.ids.has(keyId));
      return found ? found.value : null;
    };
    const selectCurrent = () => {
      if (!currentKey) return;
      const value = optionFor(currentKey);
      if (value) {
        keySelect.value = value;
      } else if (![...keySelect.options].some((o) => o.value === currentKey)) {
        keySelect.append(h('option', {value: currentKey}, currentKey));
        keySelect.value = currentKey;
      }
    };
    selectCurrent();
    customerKeyOptions()
      .then((found) => {
        if (!alive) return;
        options = found;
        const chosen = keySelect.value;
        keySelect.replaceChildren(h('option', {value: DEFAULT_KEY}, '(Default) aws/kinesis'),
          ...found.map((o) => h('option', {value: o.value}, o.label)));
        keySelect.value = chosen;
        if (keySelect.value !== chosen) selectCurrent();
        selectCurrent();
        keyNote.textContent = found.length ? '' : 'There are no customer managed keys; create one on the KMS keys page.';
      })
      .catch((err) => {
        if (alive) keyNote.textContent = `Customer keys could not be listed: ${err.message || err}`;
      });

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      errors.replaceChildren();
      const wanted = keySelect.value;
      let call = null;
      if (enable.checked && (!currentlyOn || optionFor(currentKey) !== wanted && currentKey !== wanted)) {
        call = () => api.kinesis('StartStreamEncryption', {StreamName: name, EncryptionType: 'KMS', KeyId: wanted});
      } else if (!enable.checked && currentlyOn) {
        call = () => api.kinesis('StopStreamEncryption', {StreamName: name, EncryptionType: 'KMS', KeyId: currentKey});
      }
      if (!call) {
        closeEditor();
        liveStatus.textContent = 'Server-side encryption unchanged.';
        editButton.focus();
        return;
      }
      busy(save, call)
        .then(async () => {
          if (!alive) return;
          closeEditor();
          editButton.focus();
          await refreshSummary();
          watch();
        })
        .catch((err) => { if (alive) errors.replaceChildren(errorBox(err)); });
    });

    sseEditor.replaceChildren(form);
    enable.focus();
  }

  editButton.addEventListener('click', openEditor);

  deleteButton.addEventListener('click', async () => {
    const confirmed = await confirmDialog({
      title: `Delete ${name}?`,
      message: 'The stream, its records and its registered consumers are deleted. This cannot be undone.',
      confirmLabel: 'Delete',
      typeToConfirm: 'delete',
    });
    if (!confirmed || !alive) {
      deleteButton.focus();
      return;
    }
    pageErrors.replaceChildren();
    busy(deleteButton, () => api.kinesis('DeleteStream', {StreamName: name, EnforceConsumerDeletion: true}))
      .then(() => { if (alive) location.hash = '#/streams'; })
      .catch((err) => { if (alive) pageErrors.replaceChildren(errorBox(err)); });
  });

  refreshButton.addEventListener('click', () => {
    pageErrors.replaceChildren();
    busy(refreshButton, async () => {
      try {
        await refreshSummary();
        watch();
      } catch (err) {
        if (alive) pageErrors.replaceChildren(errorBox(err));
      }
      if (alive) await Promise.all([loadShards(), loadTags()]);
    });
  });

  try {
    await refreshSummary();
  } catch (err) {
    if (alive) {
      pageErrors.replaceChildren(errorBox(err));
      view.append(h('p', null, h('a', {href: '#/streams'}, 'Back to the data streams')));
      deleteButton.disabled = true;
      refreshButton.disabled = true;
    }
    return () => { alive = false; };
  }
  view.append(detailsSection, sseSection, shardsSection, tagsSection, retentionSection, monitoringSection);
  watch();
  loadShards();
  loadTags();

  import('./traffic.js')
    .then((m) => m.renderTraffic(trafficBox, name))
    .then((cleanup) => {
      if (typeof cleanup !== 'function') return;
      if (alive) leaveTraffic = cleanup;
      else cleanup();
    })
    .catch((err) => {
      console.warn('monitoring failed', err);
      if (alive) trafficBox.replaceChildren(h('p', {class: 'note'}, 'Monitoring is not available'));
    });

  return () => {
    alive = false;
    clearTimeout(pollTimer);
    if (typeof leaveTraffic === 'function') leaveTraffic();
  };
}
