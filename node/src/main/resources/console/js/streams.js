// The data streams page: every stream with its summary, and the form that creates one.
import * as api from './api.js';
import {h, field, errorBox, table, busy, setText, mapLimited} from './ui.js';

const TRANSITIONAL = new Set(['CREATING', 'DELETING', 'UPDATING']);
const POLL_MILLIS = 2000;
const DESCRIBE_PARALLELISM = 6;

/** The names of all streams, following NextToken across pages. */
export async function listStreamNames() {
  const names = [];
  let request = {};
  for (;;) {
    const page = await api.kinesis('ListStreams', request);
    names.push(...(page.StreamNames || []));
    if (!page.HasMoreStreams) return names;
    if (page.NextToken) request = {NextToken: page.NextToken};
    else if (names.length) request = {ExclusiveStartStreamName: names[names.length - 1]};
    else return names;
  }
}

export function statusBadge(status) {
  const tone = status === 'ACTIVE' ? 'ok' : status === 'DELETING' ? 'bad' : TRANSITIONAL.has(status) ? 'warn' : 'muted';
  return h('span', {class: ['badge', tone]}, status || 'Unknown');
}

export function modeLabel(summary) {
  const mode = summary && summary.StreamModeDetails && summary.StreamModeDetails.StreamMode;
  return mode === 'ON_DEMAND' ? 'On-demand' : mode === 'PROVISIONED' ? 'Provisioned' : (mode || '');
}

export function encrypted(summary) {
  return Boolean(summary && summary.EncryptionType === 'KMS');
}

export function streamHref(name) {
  return `#/streams/${encodeURIComponent(name)}`;
}

export async function render(view) {
  let alive = true;
  let timer = null;

  const listBox = h('div', {class: 'list'}, h('p', {class: 'loading'}, 'Loading data streams…'));
  const status = h('p', {class: 'status-line', role: 'status'});
  const createButton = h('button', {type: 'button'}, 'Create data stream');
  const refreshButton = h('button', {type: 'button', class: 'secondary'}, 'Refresh');
  const formBox = h('div');

  view.append(
    h('div', {class: 'page-head'},
      h('h1', null, 'Data streams'),
      h('div', {class: 'toolbar'}, createButton, refreshButton)),
    formBox,
    h('section', {class: 'panel', 'aria-label': 'Data streams'}, listBox, status));

  async function load() {
    clearTimeout(timer);
    let names;
    try {
      names = await listStreamNames();
    } catch (err) {
      if (!alive) return;
      listBox.replaceChildren(errorBox(err));
      return;
    }
    const rows = await mapLimited(names, DESCRIBE_PARALLELISM, async (name) => {
      try {
        const answer = await api.kinesis('DescribeStreamSummary', {StreamName: name});
        return {name, summary: answer.StreamDescriptionSummary};
      } catch (err) {
        return {name, error: err};
      }
    });
    if (!alive) return;
    const failed = rows.filter((r) => r.error && r.error.type !== 'ResourceNotFoundException');
    const shown = rows.filter((r) => !(r.error && r.error.type === 'ResourceNotFoundException'));
    const list = table({
        caption: 'Data streams',
        empty: 'No data streams yet. Create one to start.',
        rows: shown,
        columns: [
          {label: 'Name', cell: (r) => h('a', {href: streamHref(r.name)}, r.name)},
          {label: 'Status', cell: (r) => (r.summary ? statusBadge(r.summary.StreamStatus) : '—')},
          {label: 'Capacity mode', cell: (r) => (r.summary ? modeLabel(r.summary) : '—')},
          {label: 'Open shards', class: 'num', cell: (r) => (r.summary ? String(r.summary.OpenShardCount ?? '') : '—')},
          {label: 'Retention (hours)', class: 'num',
            cell: (r) => (r.summary ? String(r.summary.RetentionPeriodHours ?? '') : '—')},
          {label: 'Encryption', cell: (r) => (r.summary ? (encrypted(r.summary) ? 'Enabled' : 'Disabled') : '—')},
          {label: 'KMS key', cell: (r) => (r.summary && encrypted(r.summary) ? h('span', {class: 'mono'}, r.summary.KeyId) : '—')},
        ],
      });
    list.caption.classList.add('sr-only'); // the page's heading says it already
    listBox.replaceChildren(...(failed.length ? [errorBox(failed[0].error)] : []), list);
    const changing = shown.some((r) => r.summary && TRANSITIONAL.has(r.summary.StreamStatus));
    setText(status, `${shown.length} data stream${shown.length === 1 ? '' : 's'}${changing ? ' · refreshing while a stream changes' : ''}`);
    if (changing) timer = setTimeout(() => { if (alive) load(); }, POLL_MILLIS);
  }

  // The opener hides while its form is open: the form has the page's one "Create" button then.
  function closeForm() {
    formBox.replaceChildren();
    createButton.hidden = false;
    createButton.focus();
  }

  function openForm() {
    if (formBox.firstChild) {
      formBox.querySelector('input').focus();
      return;
    }
    createButton.hidden = true;
    const name = h('input', {type: 'text', name: 'streamName', required: true, maxlength: 128,
      pattern: '[a-zA-Z0-9_.\\-]+', autocomplete: 'off', spellcheck: 'false'});
    const mode = h('select', {name: 'capacityMode'},
      h('option', {value: 'PROVISIONED'}, 'Provisioned'),
      h('option', {value: 'ON_DEMAND'}, 'On-demand'));
    const shards = h('input', {type: 'number', name: 'shardCount', min: 1, step: 1, value: '1', required: true,
      inputmode: 'numeric'});
    const shardsField = field('Number of open shards', shards,
      'Each shard takes up to 1 MiB or 1,000 records per second of writes.');
    mode.addEventListener('change', () => {
      const onDemand = mode.value === 'ON_DEMAND';
      shards.disabled = onDemand;
      shardsField.hidden = onDemand;
    });
    const submit = h('button', {type: 'submit'}, 'Create');
    const cancel = h('button', {type: 'button', class: 'secondary', on: {click: closeForm}}, 'Cancel');
    const errors = h('div');
    const form = h('form', {class: 'panel-form', novalidate: true},
      field('Data stream name', name, 'Up to 128 characters: letters, digits, underscore, hyphen and period.'),
      field('Capacity mode', mode),
      shardsField,
      errors,
      h('div', {class: 'actions'}, submit, cancel));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      errors.replaceChildren();
      const request = {StreamName: name.value.trim()};
      if (mode.value === 'ON_DEMAND') {
        request.StreamModeDetails = {StreamMode: 'ON_DEMAND'};
      } else {
        const count = Number(shards.value);
        // Sent as typed: a bad count gets the API's own ValidationException.
        request.ShardCount = Number.isInteger(count) && shards.value.trim() !== '' ? count : shards.value;
      }
      busy(submit, () => api.kinesis('CreateStream', request))
        .then(() => {
          if (!alive) return;
          closeForm();
          status.textContent = `Creating data stream ${request.StreamName}…`;
          return load();
        })
        .catch((err) => {
          if (alive) errors.replaceChildren(errorBox(err));
        });
    });
    formBox.replaceChildren(h('section', {class: 'panel', 'aria-labelledby': 'create-stream-title'},
      h('h2', {id: 'create-stream-title'}, 'New data stream'), form));
    name.focus();
  }

  createButton.addEventListener('click', openForm);
  refreshButton.addEventListener('click', () => {
    busy(refreshButton, load).catch((err) => console.warn(err));
  });

  load();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
